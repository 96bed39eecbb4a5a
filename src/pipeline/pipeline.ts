/**
 * The whole chain in one run — version-bump → build-selective → deploy (migrations first)
 * → smoke-test → tag-release — for the root action, `slipway pipeline` and the demo. Each
 * step is the action itself, invoked through the runner's code path; the pipeline only
 * decides what feeds what and when to stop.
 */
import type { SlipwayConfig } from '../core/config.js';
import { loadConfig } from '../core/config.js';
import { errorMessage, UserError } from '../core/errors.js';
import type { ActionDefinition, InputFields } from '../core/inputs.js';
import { table } from '../core/markdown.js';
import type { Runtime } from '../core/runtime.js';
import type { CheckResult } from '../checks/types.js';
import { ACTIONS } from '../registry.js';
import { invokeActionSettled, type ActionOverride, type Settled } from './invoke.js';
import { maskPolicySecrets } from '../core/policy-secrets.js';
import { Git } from '../core/git.js';
import { checkTargets } from '../deploy/plan.js';
import { branchFromEnv, ruleFor } from '../versioning/branch-policy.js';
import { allowDestructiveInPolicy, destructiveRefusal } from '../migrations/runner.js';

/** The four ways to run the chain. */
export type PipelineMode = 'main' | 'release' | 'hotfix' | 'rollback';

/** What the pipeline is asked to do. */
export interface PipelineOptions {
  mode: PipelineMode;
  config: string;
  /** Environments in order; empty → the policy file's, ordered by `after`. */
  environments: string[];
  toVersion: string;
  build: boolean;
  token: string;
  dryRun: boolean;
  /** Seconds each component has to turn healthy after it deploys (deploy's `timeout`); 0: deploy's default. */
  healthTimeout?: number;
  /** The branch whose policy applies (default: from the environment or the checkout). */
  branch?: string;
}

/** One line of the story. */
interface PipelineStep {
  step: string;
  result: 'ok' | 'skipped' | 'failed' | 'rolled-back';
  detail: string;
}

/** What the pipeline did. */
export interface PipelineResult {
  version: string;
  release: boolean;
  status: 'success' | 'rolled-back' | 'failed' | 'nothing-to-do';
  deployed: Record<string, Record<string, string>>;
  tag: string;
  releaseUrl: string;
  steps: PipelineStep[];
  /** environment → the last smoke test's verdict and results there, read from its outputs. */
  smoke: Record<string, SmokeOutcome>;
}

/** A smoke test's outputs: `passed` is false when it failed or could not run. */
interface SmokeOutcome {
  passed: boolean;
  results: CheckResult[];
  failed: string[];
}

/** A pipeline that stopped: the one-line cause, and what the run had done until then (for the outputs). */
export class PipelineError extends UserError {
  constructor(
    message: string,
    readonly result: PipelineResult,
  ) {
    super(message);
  }
}

/** The environments of the policy file in `after` order (an environment after the one it names). */
function orderedEnvironments(config: SlipwayConfig): string[] {
  const names = Object.keys(config.environments);
  const out: string[] = [];
  const visit = (n: string, seen: Set<string>) => {
    if (out.includes(n)) return;
    if (seen.has(n)) throw config.errorAt(['environments', n, 'after'], `environments form a cycle through "${n}"`);
    seen.add(n);
    const after = config.environments[n].after;
    if (after) visit(after, seen);
    out.push(n);
  };
  for (const n of names) visit(n, new Set());
  return out;
}

function action(name: string): ActionDefinition<InputFields> {
  const a = ACTIONS.find((x) => x.name === name);
  if (!a) throw new UserError(`the pipeline needs the ${name} action, which this build of Slipway does not have`);
  return a;
}

/** Run the chain; a failed step throws a PipelineError carrying the result so far (after smoke-testing what serves). */
export async function runPipeline(
  options: PipelineOptions,
  rt: Runtime,
  overrides: Record<string, ActionOverride> = {},
): Promise<PipelineResult> {
  const config = await loadConfig(rt.cwd, options.config);
  // Before any command runs: a secret the policy names is masked even where it is printed first.
  maskPolicySecrets(config, rt);
  // A misspelt target fails the run now, not after version, build and migrations ran.
  checkTargets(config);
  let envs = options.environments.length ? options.environments : orderedEnvironments(config);
  if (!envs.length)
    throw new UserError(`input "environments": the policy file names no environment; name one (e.g. production)`);
  if (options.mode === 'release' && !options.environments.length) envs = envs.slice(0, 1);

  const result: PipelineResult = {
    version: '',
    release: false,
    status: 'success',
    deployed: {},
    tag: '',
    releaseUrl: '',
    steps: [],
    smoke: {},
  };
  const note = (step: string, res: PipelineStep['result'], detail: string) => {
    result.steps.push({ step, result: res, detail });
    const mark = res === 'ok' ? '✔' : res === 'skipped' ? '–' : res === 'rolled-back' ? '↩' : '✘';
    rt.log.info(`${mark} ${step}: ${detail}`);
  };
  const common = { config: options.config, 'dry-run': options.dryRun };
  const call = async (name: string, inputs: Record<string, string | boolean | undefined>) => {
    const a = action(name);
    const withToken = 'token' in a.inputs && options.token ? { ...inputs, token: options.token } : inputs;
    return rt.log.group(`${name}`, () => invokeActionSettled(a, { ...common, ...withToken }, rt, overrides[name]));
  };
  const stop = async (status: 'failed' | 'rolled-back', message: string): Promise<never> => {
    result.status = status;
    await finish();
    throw new PipelineError(message, result);
  };
  const fail = async (step: string, error: unknown): Promise<never> => {
    note(step, 'failed', errorMessage(error));
    return stop('failed', `pipeline stopped at ${step}: ${errorMessage(error)}`);
  };

  if (options.mode === 'rollback') {
    for (const env of envs) {
      const dep = await call('deploy', {
        environment: env,
        rollback: true,
        'to-version': options.toVersion || undefined,
      });
      if (dep.error) await fail(`rollback ${env}`, dep.error);
      result.deployed[env] = parseJson(dep.outputs.deployed) ?? {};
      if (await refused(`rollback ${env}`, env, dep)) continue;
      note(
        `rollback ${env}`,
        'ok',
        options.dryRun ? describePlan(dep.outputs.plan) : `back to ${describeDeployed(result.deployed[env])}`,
      );
      if (!(await smoke(env))) await stop('failed', `smoke tests failed on ${env} after the rollback`);
    }
    await finish();
    return result;
  }

  if (options.mode === 'hotfix') await requireHotfixBranch(config, options.branch ?? '', rt);
  // No manual bump for a hotfix: a manual one moves every series, tagging components no commit
  // touched ("_No changes._"). The branch's rule (hotfix/*: stable, bump patch) makes the patch,
  // for each series with a commit since its last tag only, as the hotfix workflow's version job.
  const vb = await call('version-bump', { branch: options.branch });
  if (vb.error) await fail('version', vb.error);
  result.version = vb.outputs.version;
  result.release = vb.outputs.release === 'true';
  note(
    'version',
    'ok',
    `${vb.outputs['previous-version'] || '(none)'} → ${vb.outputs.version}${result.release ? ` (${vb.outputs.bump})` : ' (no release)'}`,
  );
  // Each component whose own series moved gets its tag and release with the product's.
  const movedSeries = Object.entries(
    parseJson<Record<string, { release?: boolean; tag?: string }>>(vb.outputs.components) ?? {},
  ).filter(([, c]) => c.release === true);
  const moved = movedSeries.map(([name]) => name);
  // The tags are the last step: without a token to make them, stop before anything is built or
  // deployed, not after production already runs versions that can then not be released.
  // tag-release's local form (the CLI) writes a local tag, and a dry run writes nothing.
  if ((result.release || moved.length) && !options.token && !options.dryRun && !overrides['tag-release']) {
    const tags = [result.release ? vb.outputs.tag || result.version : '', ...movedSeries.map(([n, c]) => c.tag || n)];
    const message = `input "token": empty, but this run releases ${tags.filter(Boolean).join(', ')}: a GitHub token with contents: write is needed to create the tags and releases (nothing was built or deployed)`;
    note('token', 'failed', message);
    await stop('failed', message);
  }

  // Each component is built and deployed at its own version: its own series', else the product's.
  const versions = vb.outputs.versions || result.version;
  const bs = await call('build-selective', { run: options.build, version: versions, released: vb.outputs.released });
  if (bs.error) await fail('build', bs.error);
  const changed = parseJson<string[]>(bs.outputs.changed) ?? [];
  const skipped = parseJson<Record<string, unknown>>(bs.outputs.skipped) ?? {};
  note(
    'build',
    'ok',
    changed.length
      ? `${changed.join(', ')}${Object.keys(skipped).length ? ` (cached: ${Object.keys(skipped).join(', ')})` : ''} — ${selectionReasons(config, changed, bs.outputs)}`
      : 'nothing changed',
  );

  if (options.dryRun) await previewMigrations(config);

  if (changed.length) {
    for (const [i, env] of envs.entries()) {
      // A plan: the environments before this one are deployed first in the same run.
      if (options.dryRun) rt.env.SLIPWAY_PLANNED_ENVIRONMENTS = envs.slice(0, i).join(',');
      const dep = await call('deploy', {
        environment: env,
        version: versions,
        components: JSON.stringify(changed),
        timeout: options.healthTimeout ? String(options.healthTimeout) : undefined,
      });
      const status = dep.outputs.status || (dep.error ? 'failed' : 'success');
      result.deployed[env] = parseJson(dep.outputs.deployed) ?? {};
      if (await refused(`deploy ${env}`, env, dep)) continue;
      if (dep.error || status !== 'success') {
        const rolledBack = status === 'rolled-back';
        const cause = errorMessage(dep.error ?? status);
        note(`deploy ${env}`, rolledBack ? 'rolled-back' : 'failed', cause);
        // What serves now must still pass: a rollback that left a broken environment is a failure.
        const serving = await smoke(env);
        if (rolledBack && serving) await stop('rolled-back', `deploy to ${env} was rolled back: ${cause}`);
        await stop(
          'failed',
          rolledBack
            ? `deploy to ${env} was rolled back, and the smoke tests failed on the version rolled back to: ${cause}`
            : `deploy to ${env} failed: ${cause}`,
        );
      }
      note(
        `deploy ${env}`,
        'ok',
        options.dryRun ? describePlan(dep.outputs.plan) : describeDeployed(result.deployed[env]),
      );
      if (!(await smoke(env))) await stop('failed', `smoke tests failed on ${env}; the release was not tagged`);
    }
    delete rt.env.SLIPWAY_PLANNED_ENVIRONMENTS;
  } else {
    result.status = 'nothing-to-do';
    // A plan still shows each environment: nothing would deploy, and what its checks are.
    if (options.dryRun)
      for (const env of envs) {
        note(`deploy ${env}`, 'skipped', 'nothing selected: no component changed, so nothing would deploy');
        await smoke(env);
      }
  }

  if (result.release || moved.length) {
    const tr = await call('tag-release', {
      version: result.release ? result.version : '',
      components: vb.outputs.components,
    });
    if (tr.error) await fail('release', tr.error);
    result.tag = tr.outputs.tag;
    result.releaseUrl = tr.outputs['release-url'] ?? '';
    const componentTags = Object.values(parseJson<Record<string, { tag: string }>>(tr.outputs.components) ?? {}).map(
      (c) => c.tag,
    );
    note(
      'release',
      'ok',
      `${tr.outputs.tag || '(no product release)'}${options.dryRun ? ' (dry run: would be created)' : tr.outputs.created === 'false' && tr.outputs.tag ? ' (already there)' : ''}${result.releaseUrl ? ` ${result.releaseUrl}` : ''}${componentTags.length ? `; components: ${componentTags.join(', ')}` : ''}`,
    );
  } else {
    note('release', 'skipped', 'no new version');
  }
  await finish();
  return result;

  /**
   * In a dry run, a deploy that a real run would refuse (its `plan` output's refusal): noted as
   * failed, and its smoke tests previewed, so the plan carries on to show the rest. True when refused.
   */
  async function refused(step: string, env: string, dep: Settled): Promise<boolean> {
    if (!options.dryRun || dep.error) return false;
    const refusal = parseJson<{ refusal?: string | null } | undefined>(dep.outputs.plan)?.refusal;
    if (!refusal) return false;
    note(step, 'failed', `a real run would stop here: ${refusal}`);
    await smoke(env);
    return true;
  }

  async function smoke(env: string): Promise<boolean> {
    const st = await call('smoke-test', {
      environment: env,
      timeout: options.healthTimeout ? `${options.healthTimeout}s` : undefined,
    });
    const results = parseJson<CheckResult[]>(st.outputs.results) ?? [];
    // A dry run leaves `passed` empty: nothing was contacted, nothing failed.
    const passed = !st.error && st.outputs.passed !== 'false';
    result.smoke[env] = { passed, results, failed: parseJson<string[]>(st.outputs.failed) ?? [] };
    if (!passed) {
      note(`smoke-test ${env}`, 'failed', st.error ? errorMessage(st.error) : 'checks failed');
      return false;
    }
    note(
      `smoke-test ${env}`,
      'ok',
      options.dryRun
        ? `would run ${results.length} check(s)${results.length ? `: ${results.map((c) => `${c.kind} ${c.name}${c.name.includes(c.target) ? '' : ` → ${c.target}`}`).join(', ')}` : ''} (dry run: nothing contacted)`
        : `${results.length} check(s) passed`,
    );
    return true;
  }

  /** Dry runs list each migrations component's pending files and lint findings. */
  async function previewMigrations(cfg: SlipwayConfig): Promise<void> {
    for (const c of Object.values(cfg.components).filter((x) => x.migrate)) {
      const dbEnv = c.migrate!.database?.env;
      if (c.migrate!.tool === 'command') {
        // The project's tool keeps its own history: nothing to count or lint, and a plan runs no command.
        const cmd = c.migrate!.command?.trim();
        if (cmd)
          note(
            `migrations ${c.name}`,
            'ok',
            `tool: command: would run \`${cmd}\`; its own history, so no pending count and no lint`,
          );
        else note(`migrations ${c.name}`, 'failed', `tool: command needs migrate.command on components.${c.name}`);
        continue;
      }
      const mig = await call('migrate', { dir: c.migrate!.dir, 'database-url': dbEnv ? rt.env[dbEnv] : undefined });
      if (mig.error) {
        note(`migrations ${c.name}`, 'failed', errorMessage(mig.error));
        continue;
      }
      const findings =
        parseJson<{ file?: string; line?: number; message?: string; rule?: string; destructive?: boolean }[]>(
          mig.outputs.findings,
        ) ?? [];
      const lint = findings.length
        ? `; lint: ${findings.map((f) => `${f.file ?? ''}${f.line ? `:${f.line}` : ''} ${f.rule ?? f.message ?? ''}`.trim()).join(', ')}`
        : '; lint clean';
      // Deploy's migrations step refuses these unless the policy file lets them through (it has
      // no input for it): the plan fails where the real run would, in deploy's words.
      const destructive = c.migrate!.allowDestructive ? [] : findings.filter((f) => f.destructive === true);
      if (destructive.length) {
        note(
          `migrations ${c.name}`,
          'failed',
          `a real run would stop here: ${destructiveRefusal(destructive, allowDestructiveInPolicy(c.name), 'would be')} (${mig.outputs.pending || '0'} pending${lint})`,
        );
        continue;
      }
      note(`migrations ${c.name}`, 'ok', `${mig.outputs.pending || '0'} pending${lint}`);
    }
  }

  async function finish(): Promise<void> {
    await rt.summary(
      [
        `## Slipway ${options.mode}${options.dryRun ? ' (dry run)' : ''}`,
        '',
        table(
          ['step', 'result', 'detail'],
          result.steps.map((s) => [s.step, s.result, s.detail]),
        ),
        '',
      ].join('\n'),
    );
  }
}

/**
 * A hotfix is the branch rule's patch (hotfix/*: channel stable, bump patch), as the hotfix
 * workflow runs only from hotfix/* branches: on a branch whose rule makes no forced patch,
 * the run would release whatever that rule says (a minor on main) under the name of a hotfix.
 * A branch that cannot be told is left to version-bump, which says so in its own words.
 */
async function requireHotfixBranch(config: SlipwayConfig, input: string, rt: Runtime): Promise<void> {
  const branch = branchFromEnv(input, rt.env) ?? (await new Git(rt.cwd, rt.log).currentBranch());
  if (!branch) return;
  const rule = ruleFor(config.versioning.branches, branch);
  if (rule.channel === 'stable' && rule.bump === 'patch') return;
  throw new UserError(
    `mode hotfix: branch ${branch} follows the rule "${rule.match}" (channel ${rule.channel}${rule.bump ? `, bump ${rule.bump}` : ''}), which makes no patch release; run a hotfix from a branch whose rule does (hotfix/*: channel stable, bump patch)`,
  );
}

function parseJson<T = Record<string, string>>(text: string | undefined): T {
  if (!text) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined as T;
  }
}

/** Why each component was selected, from build-selective's outputs (its changed files, or the dependency it follows). */
function selectionReasons(config: SlipwayConfig, changed: string[], outputs: Record<string, string>): string {
  if (!outputs.base) return 'everything selected (no earlier state to compare with)';
  const files = parseJson<Record<string, string[]>>(outputs.files) ?? {};
  return changed
    .map((c) => {
      const own = files[c] ?? [];
      if (own.length)
        return `${c}: ${own.slice(0, 2).join(', ')}${own.length > 2 ? ` and ${own.length - 2} more` : ''} changed`;
      const via = (config.components[c]?.dependsOn ?? []).find((d) => changed.includes(d));
      return `${c}: ${via ? `depends on ${via}` : 'a dependency changed'}`;
    })
    .join('; ');
}

function describePlan(planText: string | undefined): string {
  const plan = parseJson<{ waves?: { component: string; current: string | null; next: string }[][] }>(planText);
  if (!plan?.waves?.length) return 'nothing to deploy';
  return plan.waves
    .map((w, i) => `wave ${i + 1}: ${w.map((s) => `${s.component} ${s.current ?? '(none)'} → ${s.next}`).join(', ')}`)
    .join('; ');
}

function describeDeployed(deployed: Record<string, string> | undefined): string {
  const entries = Object.entries(deployed ?? {});
  return entries.length ? entries.map(([c, v]) => `${c} ${v}`).join(', ') : 'nothing';
}
