/**
 * The release step that pins the reusable workflows' own action calls to one commit: a caller
 * who pins a workflow by SHA then also pins the actions it runs, instead of whatever v1 points to.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { pinOwnActions, pinText } from '../scripts/pin-own-actions.js';
import { policyErrors } from '../scripts/workflow-checks.js';
import { createRepo } from './helpers/git-repo.js';
import { ROOT } from './helpers/run-action.js';

test('every own action call of the reusable workflows points at the commit that holds the actions and their bundles', () => {
  const repo = createRepo();
  try {
    cpSync(path.join(ROOT, '.github/workflows'), path.join(repo.dir, '.github/workflows'), { recursive: true });
    cpSync(path.join(ROOT, 'actions'), path.join(repo.dir, 'actions'), { recursive: true });
    cpSync(path.join(ROOT, 'action.yml'), path.join(repo.dir, 'action.yml'));
    // The bundles as a release commit holds them (their content does not matter here).
    for (const name of [
      'pipeline',
      'version-bump',
      'build-selective',
      'migrate',
      'deploy',
      'smoke-test',
      'tag-release',
    ]) {
      mkdirSync(path.join(repo.dir, 'dist', name), { recursive: true });
      writeFileSync(path.join(repo.dir, 'dist', name, 'index.js'), '');
    }
    execFileSync('git', ['add', '-A'], { cwd: repo.dir });
    const release = repo.commit('release 1.2.0', {});
    const changed = pinOwnActions(repo.dir);
    expect(changed.sort()).toEqual(
      ['slipway-hotfix.yml', 'slipway-main.yml', 'slipway-release.yml', 'slipway-rollback.yml'].map(
        (f) => `.github/workflows/${f}`,
      ),
    );
    for (const file of changed) {
      const text = readFileSync(path.join(repo.dir, file), 'utf8');
      expect(text).not.toMatch(/slipway-actions\/slipway[^\s@]*@v1/);
      const doc = parse(text) as { jobs: Record<string, { steps?: { uses?: string }[] }> };
      const own = Object.values(doc.jobs)
        .flatMap((j) => j.steps ?? [])
        .map((s) => s.uses ?? '')
        .filter((u) => u.startsWith('slipway-actions/'));
      expect(own.length).toBeGreaterThan(0);
      for (const uses of own) expect(uses.endsWith(`@${release}`)).toBe(true);
      expect(policyErrors(repo.dir, file)).toEqual([]);
    }
    // Pinning again to the same commit changes nothing; a commit without the bundles is refused.
    expect(pinOwnActions(repo.dir, release)).toEqual([]);
    execFileSync('git', ['rm', '-rq', 'dist'], { cwd: repo.dir });
    const bare = repo.commit('no bundles', {});
    expect(() => pinOwnActions(repo.dir, bare)).toThrow();
  } finally {
    repo.cleanup();
  }
});

test('a pinned call keeps the tag it came from as a comment', () => {
  const sha = 'a'.repeat(40);
  expect(pinText('      - uses: slipway-actions/slipway/actions/deploy@v1\n', sha)).toBe(
    `      - uses: slipway-actions/slipway/actions/deploy@${sha} # v1\n`,
  );
  expect(pinText(`uses: slipway-actions/slipway@${'b'.repeat(40)} # v1`, sha)).toBe(
    `uses: slipway-actions/slipway@${sha} # v1`,
  );
});
