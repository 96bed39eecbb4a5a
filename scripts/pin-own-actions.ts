/**
 * Release step: point the reusable workflows' calls of our own actions at one commit, so a
 * caller who pins a workflow by SHA also pins the actions it runs (with `@v1` they would run
 * whatever v1 points to later: the vector of the tj-actions compromise, CVE-2025-30066).
 *
 *   npx tsx scripts/pin-own-actions.ts [COMMIT]   # default HEAD: the commit holding dist/
 *
 * Then commit the rewritten workflows and tag that commit; see docs/CONTRIBUTING.md.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** `uses: slipway-actions/slipway[/actions/NAME]@REF`, REF a tag or a SHA. */
const OWN_USES = /(uses:\s*slipway-actions\/slipway(?:\/actions\/[a-z-]+)?)@([\w.-]+)(\s*#[^\n]*)?/g;

/** The reusable workflows whose action calls are pinned. */
export function reusableWorkflows(root: string): string[] {
  return execFileSync('git', ['ls-files', '.github/workflows/slipway-*.yml'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

/** Rewrite every own action call in `text` to `@sha # was REF`. */
export function pinText(text: string, sha: string): string {
  return text.replace(OWN_USES, (_, uses: string, ref: string, comment: string | undefined) => {
    const was = /^[0-9a-f]{40}$/.test(ref) ? (comment ?? '') : ` # ${ref}`;
    return `${uses}@${sha}${was}`;
  });
}

/** Pin the reusable workflows of the repository at `root` to `commit`; returns the files changed. */
export function pinOwnActions(root: string, commit = 'HEAD'): string[] {
  const sha = execFileSync('git', ['rev-parse', '--verify', `${commit}^{commit}`], {
    cwd: root,
    encoding: 'utf8',
  }).trim();
  const changed: string[] = [];
  for (const file of reusableWorkflows(root)) {
    const abs = path.join(root, file);
    const before = readFileSync(abs, 'utf8');
    const after = pinText(before, sha);
    for (const m of after.matchAll(OWN_USES)) {
      const dir = /\/actions\/([a-z-]+)$/.exec(m[1])?.[1];
      const actionYml = dir ? `actions/${dir}/action.yml` : 'action.yml';
      // The commit must hold the action and its bundle, or the pinned workflow cannot run.
      for (const needed of [actionYml, dir ? `dist/${dir}/index.js` : 'dist/pipeline/index.js'])
        execFileSync('git', ['cat-file', '-e', `${sha}:${needed}`], { cwd: root, stdio: 'ignore' });
    }
    if (after !== before) {
      writeFileSync(abs, after);
      changed.push(file);
    }
  }
  return changed;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const changed = pinOwnActions(process.cwd(), process.argv[2]);
  console.log(changed.length ? `pinned: ${changed.join(', ')}` : 'already pinned');
}
