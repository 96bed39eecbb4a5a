/**
 * The deploy domain: plan the run, take the environment's lock in the record, deploy step by
 * step behind the health gate, roll back on failure, and report. The caller chooses the
 * record (GitHub Deployments on a runner, the file ledger in the CLI), the health gate and
 * the migrations step, so the same code runs everywhere.
 */
import { userInfo } from 'node:os';
import { announceResult, announceStart } from './announce.js';
import { loadConfig, DEFAULT_CONFIG_PATH, type SlipwayConfig } from '../core/config.js';
import { errorMessage, oneLine, UserError } from '../core/errors.js';
import { cancelReason, isCancelled, onCancel } from '../core/cancel.js';
import { execFile } from '../core/exec.js';
import { outputString, type Runtime } from '../core/runtime.js';
import { knownEnvironment } from './environments.js';
import type { HealthGate } from './health.js';
import {
  normalizeVersion,
  parseComponentsInput,
  parseVersionInput,
  type DeployInputs,
  type VersionSpec,
} from './inputs.js';
import type { MigrationStep } from './migrations.js';
import { promotionRefusal, unpromoted } from './promotion.js';
import { buildPlan, planJson, type Plan, type VersionChoice } from './plan.js';
import { chooseRollback, versionsNow, versionsToDeployFrom } from './choose-rollback.js';
import { endedGood, fitDescription, type DeploymentEntry, type DeploymentRecord } from './record/record.js';
import { startHeartbeat } from './record/heartbeat.js';
import { describeRelease, releaseLock } from './record/unlock.js';
import { cancelledDescription } from './record/cancelled.js';
import { LEFT_AS_IS } from './record/interrupted.js';
import semver from 'semver';
import { planLines, deploySummary, type DeployStatus, type StepReport } from './report.js';
import { DeployRun, previousVersion, targetContext, type DeployResult, type RunInfo } from './run.js';
import { clashRefusal, downgradeRefusal, downgrades, sameComponentContent, versionClashes } from './version-rules.js';
import type { TargetFactories } from './targets/target.js';
import { maskPolicySecrets } from '../core/policy-secrets.js';
import { maskCredentialVariables } from './credential-env.js';

export type { DeployResult } from './run.js';

/** What runDeploy needs; health and migrations default to the check engine and the migrate domain on DATABASE_URL-style variables. */
export interface DeployOptions {
  inputs: DeployInputs;
  record: DeploymentRecord;
  runtime: Runtime;
  health?: HealthGate;
  migrations?: MigrationStep;
  /** The target kinds (default: every target deploy ships); tests add their own. */
  targets?: TargetFactories;
}

/**
 * Run deploy: sets every output and the job summary, and throws a one-line UserError when
 * the run did not succeed (after rolling back when it could). Once the policy file is read,
 * every way of not succeeding (a refusal, lock-timeout, a failed step, an unexpected error)
 * sets `status` and sends the deploy-failed (or deploy-rolled-back) notification.
 */
export async function runDeploy(given: DeployOptions): Promise<DeployResult> {
  // Outputs are set as soon as they are known (a failed run still has them) and again at
  // the end: each value reaches GITHUB_OUTPUT once.
  const options: DeployOptions = { ...given, runtime: outputsOnce(given.runtime) };
  const { inputs, runtime: rt } = options;
  const config = await loadConfig(rt.cwd, inputs.config);
  // Before any command runs: a secret the policy names is masked even where it is printed first,
  // and so is a credential the workflow passed in a plain env: (see credential-env.ts).
  maskPolicySecrets(config, rt);
  maskCredentialVariables(rt);
  const state: RunState = { rollback: inputs.rollback };
  // Cancelled before the environment is held (waiting for the lock, reading the record):
  // nothing ran, and the outputs say so before the process exits.
  const cancelledEarly = onCancel(() => {
    if (state.held) return;
    rt.setOutput('status', 'cancelled');
    if (state.plan) rt.setOutput('plan', planOutput(state.plan, state.refusal));
  });
  let result: DeployResult;
  try {
    result = await deployWith(config, options, state);
    state.reports = result.reports;
  } catch (err) {
    rt.setOutput('status', isCancelled() ? 'cancelled' : 'failed');
    if (state.plan) rt.setOutput('plan', planOutput(state.plan, state.refusal));
    // A cancelled run's cleanup (deployWith) marks the record and announces it.
    if (!inputs.dryRun && !isCancelled()) {
      const environment = state.plan?.environment ?? inputs.environment.trim();
      await announce(config, environment, state, 'failed', rt.redact(oneLine(errorMessage(err))), rt);
    }
    throw err;
  } finally {
    cancelledEarly();
  }
  if (inputs.dryRun || result.reports.length === 0) return result;
  if (isCancelled()) throw new UserError(`deploy to ${result.plan.environment} cancelled (${cancelReason()})`);
  await announce(config, result.plan.environment, state, result.status, result.message, rt);
  if (result.status !== 'success')
    throw new UserError(result.message ?? `deploy to ${result.plan.environment} ${result.status}`);
  return result;
}

/** What the run learned before it failed, for the notification. */
interface RunState {
  plan?: Plan;
  /** True once the environment's lock is held (a cancel is then reported by deployWith's cleanup). */
  held?: boolean;
  info?: RunInfo;
  rollback?: boolean;
  reports?: StepReport[];
  /** The rule that refused the run (in a dry run: that a real run would stop at), for the `plan` output. */
  refusal?: string;
}

/** Send the notifications of a run's end. */
async function announce(
  config: SlipwayConfig,
  environment: string,
  state: RunState,
  status: DeployStatus,
  message: string | undefined,
  rt: Runtime,
): Promise<void> {
  const { plan, info, rollback, reports } = state;
  await announceResult(
    config,
    { environment, plan, rollback, reports, creator: info?.creator, logUrl: info?.logUrl },
    status,
    message,
    rt,
  );
}

async function deployWith(config: SlipwayConfig, options: DeployOptions, state: RunState): Promise<DeployResult> {
  const { inputs, record, runtime: rt } = options;
  const environment = knownEnvironment(config, inputs.environment, 'input "environment"');
  const environmentUrl = config.environments[environment]?.url ?? '';
  if (Object.keys(config.components).length === 0)
    throw new UserError(
      `config: ${config.file ?? DEFAULT_CONFIG_PATH} has no components (deploy needs components with deploy: or migrate:)`,
    );
  const selected = parseComponentsInput(inputs.components, config);
  const versions = parseVersionInput(inputs.version, config);
  if (!inputs.rollback && !versions)
    throw new UserError('input "version" is required unless rollback is true: the version to deploy, such as 1.4.0');
  const toVersion = parseToVersion(inputs.toVersion);
  if (toVersion && !inputs.rollback)
    throw new UserError('input "to-version": only applies with rollback: true (to deploy a version, use "version")');

  rt.setOutput('environment-url', environmentUrl);
  let history = await record.history(environment);
  const rollback = inputs.rollback ? chooseRollback(config, history, toVersion, selected) : null;
  const from = rollback ? null : versionsToDeployFrom(history);
  const plan = buildPlan({
    config,
    environment,
    environmentUrl,
    mode: inputs.rollback ? 'rollback' : 'deploy',
    selected,
    current: rollback ? rollback.current : from!.current,
    unknown: rollback?.unknown,
    choose: rollback ? rollback.choose : deployChooser(versions!),
    targets: options.targets,
  });
  if (rollback?.describe) rt.log.info(rollback.describe);
  rt.log.info(
    `${plan.mode === 'rollback' ? 'Rollback' : 'Deploy'} to ${environment} (record: ${record.name}), ${plan.steps.length} component(s) in ${plan.waves.length} wave(s):`,
  );
  for (const line of planLines(plan)) rt.log.info(`  ${line}`);
  // A real run says it once it holds the lock: a run in progress now may be done by then.
  if (from && inputs.dryRun) warnUnknown(plan, from.unknown, rt);

  const info = await runInfo(rt);
  const said = new Set<string>();
  state.plan = plan;
  state.info = info;
  const refusal =
    (await checkPromotion(config, plan, record, inputs.dryRun ? plannedBefore(rt.env) : [])) ??
    (await checkVersions(config, plan, history, info, inputs, rt, said)) ??
    toVersionRefusal(plan, history, toVersion);
  if (refusal) state.refusal = refusal;
  if (refusal && inputs.dryRun) rt.log.warning(`A real run would stop here: ${refusal}`);
  else if (refusal) throw new UserError(refusal);

  const empty = (status: DeployStatus): DeployResult => ({
    status,
    deployed: {},
    previousVersion: previousVersion(plan.steps),
    deploymentId: '',
    environmentUrl,
    plan,
    reports: [],
  });
  if (inputs.dryRun) {
    // What each step would run, as its target describes it (slipway plan prints this).
    for (const s of plan.steps)
      for (const [step, what] of Object.entries(s.commands)) rt.log.info(`  ${s.component} ${step}: ${what}`);
    await probeRunning(plan, environment, info, rt);
    const refused = refusal ?? (await preflight(plan, info, rt));
    if (refused && !refusal) {
      state.refusal = refused;
      rt.log.warning(`A real run would stop here: ${refused}`);
    }
    // `status` stays success (the dry run itself did): the refusal reaches the caller in the
    // `plan` output, which the pipeline's plan reads to mark this deploy as failing.
    const result = empty('success');
    writeOutputs(rt, result, refused);
    const summary = deploySummary({ ...plan }, 'planned', null).replace(/: planned$/m, ' (dry run)');
    await rt.summary(refused ? `${summary}\n**A real run would stop here:** ${refused}\n` : summary);
    return result;
  }
  if (plan.steps.length === 0) {
    rt.log.info('Nothing to deploy.');
    const result = empty('success');
    writeOutputs(rt, result);
    await rt.summary(deploySummary(plan, 'success', []));
    return result;
  }

  const description = rt.redact(
    fitDescription(`${plan.mode} ${plan.steps.map((s) => `${s.component}@${s.next}`).join(', ')}`),
  );
  if (inputs.forceUnlock)
    rt.log.warning(describeRelease(environment, await releaseLock(record, environment, info.creator)));
  const entry = await record.begin(
    {
      environment,
      task: plan.mode === 'rollback' ? 'deploy:rollback' : 'deploy',
      ref: info.ref,
      sha: info.sha,
      versions: Object.fromEntries(plan.steps.map((s) => [s.component, s.next])),
      creator: info.creator,
      description,
      environmentUrl: environmentUrl || undefined,
      logUrl: info.logUrl,
    },
    { timeoutMs: inputs.lockTimeout * 1000, ttlMs: inputs.lockTtl * 1000, log: rt.log },
  );
  rt.setOutput('deployment-id', entry.id);
  const heartbeat = startHeartbeat(
    record,
    entry.id,
    { description, environmentUrl: environmentUrl || undefined, logUrl: info.logUrl },
    { ttlMs: inputs.lockTtl * 1000, log: rt.log },
  );
  state.held = true;
  const run = new DeployRun(plan, options, info, entry.id);
  let executing: Promise<DeployResult> | undefined;
  // Cancelled (SIGINT/SIGTERM): the commands are stopped first (core/exec), then this sets
  // the outputs (first: they are local and the CLI prints them when it exits), marks the
  // record error, which releases the environment, and announces the end.
  const releaseOnCancel = onCancel(async () => {
    // The run settles as soon as its stopped commands are reaped; a health gate still polling would not.
    if (executing) await settledWithin(executing, CANCEL_SETTLE_MS);
    const { result, components } = run.cancelled();
    writeOutputs(rt, result);
    rt.log.warning(`${result.message}.`);
    rt.log.info(`Marking deployment #${entry.id} as error, which releases ${environment}.`);
    await heartbeat.stop();
    await record.finish(entry.id, {
      state: 'error',
      description: fitDescription(
        rt.redact(cancelledDescription(cancelReason() ?? 'cancelled', plan.mode, components)),
      ),
    });
    await rt.summary(deploySummary(plan, result.status, result.reports));
    await announce(config, environment, { ...state, reports: result.reports }, 'cancelled', result.message, rt);
  });
  let result: DeployResult;
  try {
    // Another deployment may have finished while this one waited for the lock.
    history = await record.history(environment);
    const others = history.filter((e) => e.id !== entry.id);
    // A rollback starts from what may run (an interrupted run's version); a deploy from the last
    // good one, or the version an interrupted run finished a component at.
    const start = plan.mode === 'rollback' ? null : versionsToDeployFrom(others);
    const now = start ? { current: start.current, unknown: {} } : versionsNow(others);
    for (const s of plan.steps) {
      s.current = now.current[s.component] ?? '';
      const unknown = now.unknown[s.component];
      if (unknown) s.unknown = unknown;
      else delete s.unknown;
    }
    if (start) warnUnknown(plan, start.unknown, rt);
    // What the environment runs may have moved while this run waited for the lock.
    const late = await checkVersions(config, plan, history, info, inputs, rt, said);
    if (late) {
      state.refusal = late;
      throw new UserError(late);
    }
    // Announced with the versions read under the lock: "from" is what runs now.
    await announceStart(config, { environment, plan, creator: info.creator, logUrl: info.logUrl }, rt);
    executing = run.execute();
    result = await executing;
  } catch (err) {
    if (isCancelled()) throw err;
    releaseOnCancel();
    await heartbeat.stop();
    await record
      .finish(entry.id, { state: 'error', description: fitDescription(rt.redact(oneLine(errorMessage(err)))) })
      .catch((e) => rt.log.warning(`Could not mark deployment #${entry.id} as error: ${errorMessage(e)}`));
    throw err;
  }
  if (isCancelled()) return result;
  releaseOnCancel();
  await heartbeat.stop();
  await record.finish(entry.id, {
    state: result.status === 'success' ? 'success' : 'failure',
    // A failure left in place is told apart from one rolled back: what runs is then unknown.
    description: fitDescription(
      rt.redact(
        `${result.status === 'failed' && !inputs.autoRollback ? LEFT_AS_IS : ''}${result.message ?? `${plan.mode} succeeded`}`,
      ),
    ),
    environmentUrl: environmentUrl || undefined,
    logUrl: info.logUrl,
  });
  writeOutputs(rt, result);
  await rt.summary(deploySummary(plan, result.status, result.reports));
  return result;
}

/** The refusal of the `after` rule for a deploy (a manual rollback puts back what already ran there), or null. */
async function checkPromotion(
  config: SlipwayConfig,
  plan: Plan,
  record: DeploymentRecord,
  planned: readonly string[],
): Promise<string | null> {
  const after = config.environments[plan.environment]?.after;
  if (!after || plan.mode !== 'deploy' || plan.steps.length === 0) return null;
  // A plan of the whole pipeline deploys `after` earlier in the same run: the gate is met then.
  if (planned.includes(after)) return null;
  const missing = unpromoted(plan.steps, await record.history(after));
  return missing.length ? promotionRefusal(plan.environment, after, missing, config.file ?? DEFAULT_CONFIG_PATH) : null;
}

/**
 * The environments a pipeline's dry run plans to deploy before this one (SLIPWAY_PLANNED_ENVIRONMENTS,
 * set by the pipeline for its own deploy steps), so the plan does not warn about a gate the run meets.
 */
function plannedBefore(env: NodeJS.ProcessEnv): string[] {
  return (env.SLIPWAY_PLANNED_ENVIRONMENTS ?? '').split(',').filter(Boolean);
}

/** The refusal of the version rules (one version, one commit; no silent downgrade) for a deploy, or null. */
async function checkVersions(
  config: SlipwayConfig,
  plan: Plan,
  history: readonly DeploymentEntry[],
  info: RunInfo,
  inputs: DeployInputs,
  rt: Runtime,
  /** Warnings this run gave already (the check runs before and after the lock). */
  said: Set<string>,
): Promise<string | null> {
  if (plan.mode !== 'deploy' || plan.steps.length === 0) return null;
  const clashes = await versionClashes(plan.steps, history, info.sha, sameComponentContent(config, rt.cwd, info.sha));
  if (clashes.length) return clashRefusal(plan.environment, info.sha, clashes);
  const down = downgrades(plan.steps);
  if (down.length === 0) return null;
  if (!inputs.allowDowngrade) return downgradeRefusal(plan.environment, down);
  const warning = `allow-downgrade: ${down.map((s) => `${s.component} goes from ${s.current} back to ${s.next}`).join(', ')}.`;
  // Checked again once the lock is held: said again only when what it says changed.
  if (!said.has(warning)) rt.log.warning(warning);
  said.add(warning);
  return null;
}

/**
 * A manual rollback goes back only to a version the environment ran (a good deployment in
 * its record): it skips the promotion gate, so a version never deployed there must come
 * through a deploy, which that gate checks. Null when every step's version ran there.
 */
function toVersionRefusal(plan: Plan, history: readonly DeploymentEntry[], toVersion: string): string | null {
  if (plan.mode !== 'rollback' || !toVersion) return null;
  const ran = (component: string) =>
    history.filter((e) => endedGood(e.state) && e.versions[component] !== undefined).map((e) => e.versions[component]);
  const never = plan.steps.filter((s) => s.kind !== 'migrate' && !ran(s.component).includes(toVersion));
  if (!never.length) return null;
  // Highest first: in the order of the record they read as a puzzle after a few rollbacks.
  const ran0 = [...new Set(ran(never[0].component))];
  const known = (ran0.every((v) => semver.valid(v)) ? ran0.sort(semver.rcompare) : ran0).slice(0, 5);
  return `input "to-version": ${never.map((s) => s.component).join(', ')} never ran ${toVersion} on ${plan.environment} (expected a version it ran there${known.length ? `: ${known.join(', ')}` : ''}; a version new to ${plan.environment} is deployed with "version", through the promotion gate)`;
}

/** The `to-version` input: any version `version` accepts, or ''. */
function parseToVersion(raw: string): string {
  if (!raw.trim()) return '';
  const v = normalizeVersion(raw);
  if (!v)
    throw new UserError(
      `input "to-version": expected a version such as 1.4.0 (letters, digits, . + _ -), got ${JSON.stringify(raw.trim())}`,
    );
  return v;
}

/** A deploy's component that an interrupted run left unknown: why, and what a failure puts back. */
function warnUnknown(plan: Plan, unknown: Record<string, string>, rt: Runtime): void {
  for (const s of plan.steps)
    if (unknown[s.component])
      rt.log.warning(
        `${s.component} runs an unknown version: ${unknown[s.component]}; this deploy starts from its last good version${s.current ? ` ${s.current}` : ' (none)'}, which a failure puts back.`,
      );
}

function deployChooser(spec: VersionSpec): (name: string) => VersionChoice {
  return (name) => {
    const next = 'all' in spec ? spec.all : spec.each[name];
    return next ? { next } : { skip: 'no version for it in the version input' };
  };
}

async function runInfo(rt: Runtime): Promise<RunInfo> {
  const git = async (args: string[]) => {
    const r = await execFile('git', args, { cwd: rt.cwd }).catch(() => null);
    return r && r.code === 0 ? r.stdout.trim() : '';
  };
  const sha = rt.env.GITHUB_SHA || (await git(['rev-parse', 'HEAD']));
  const ref =
    rt.env.GITHUB_HEAD_REF || rt.env.GITHUB_REF_NAME || (await git(['rev-parse', '--abbrev-ref', 'HEAD'])) || sha;
  let creator = rt.env.GITHUB_ACTOR || rt.env.USER || '';
  if (!creator)
    try {
      creator = userInfo().username;
    } catch {
      creator = 'unknown';
    }
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = rt.env;
  return { sha, ref, creator, logUrl: server && repo && run ? `${server}/${repo}/actions/runs/${run}` : undefined };
}

/** In a dry run, ask each target that has a `status` what it runs now. */
async function probeRunning(plan: Plan, environment: string, info: RunInfo, rt: Runtime): Promise<void> {
  for (const s of plan.steps) {
    if (!s.target?.status) continue;
    try {
      s.running = await s.target.status(targetContext(plan, s, info, rt, s.current, s.current));
      rt.log.info(`${s.component} on ${environment}: running ${s.running ?? 'an unknown version'} (status command).`);
    } catch (err) {
      s.running = null;
      rt.log.warning(`${s.component}: the status command failed: ${errorMessage(err)}`);
    }
  }
}

/** The first refusal a target foresees for a step of a dry run (`component: why`), or null. */
async function preflight(plan: Plan, info: RunInfo, rt: Runtime): Promise<string | null> {
  for (const s of plan.steps) {
    if (!s.target?.preflight) continue;
    try {
      const why = await s.target.preflight(targetContext(plan, s, info, rt, s.next, s.current), plan.mode);
      if (why) return `${s.component}: ${why}`;
    } catch (err) {
      rt.log.warning(`${s.component}: could not check what a real run would find: ${errorMessage(err)}`);
    }
  }
  return null;
}

/** How long a cancel waits for the run to note how its stopped steps ended. */
const CANCEL_SETTLE_MS = 1_000;

/** Wait for `p` to settle, at most `ms`. */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    p.catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

/** `rt` whose setOutput skips a value already written under that name. */
function outputsOnce(rt: Runtime): Runtime {
  const written = new Map<string, string>();
  return {
    ...rt,
    setOutput(name, value) {
      const text = outputString(value);
      if (written.get(name) === text) return;
      written.set(name, text);
      rt.setOutput(name, value);
    },
  };
}

function writeOutputs(rt: Runtime, result: DeployResult, refusal: string | null = null): void {
  rt.setOutput('status', result.status);
  rt.setOutput('deployed', result.deployed);
  rt.setOutput('previous-version', result.previousVersion);
  rt.setOutput('deployment-id', result.deploymentId);
  rt.setOutput('environment-url', result.environmentUrl);
  rt.setOutput('plan', planOutput(result.plan, refusal));
}

/** The `plan` output: the plan, and the refusal that stops the run (or would, in a dry run), null when none. */
function planOutput(plan: Plan, refusal: string | null | undefined): unknown {
  return { ...(planJson(plan) as Record<string, unknown>), refusal: refusal ?? null };
}
