/**
 * One deploy run once the environment is held: its named steps are deploying a component
 * (a migration or a target), gating it on its health checks, and rolling back what the run
 * deployed when a step fails. A new target plugs in through `Target` (targets/target.ts); it
 * gets the same context, gate and rollback as every other.
 */
import semver from 'semver';
import { cancelReason, isCancelled } from '../core/cancel.js';
import { errorMessage, isUserError, oneLine } from '../core/errors.js';
import { rewritingLog, type Runtime } from '../core/runtime.js';
import { checkEngineGate, type HealthGate, type HealthOutcome } from './health.js';
import type { DeployInputs } from './inputs.js';
import { migrationsStep } from './migrate-step.js';
import type { MigrationOutcome, MigrationStep } from './migrations.js';
import type { Plan, PlanStep } from './plan.js';
import { healthText, type DeployStatus, type StepReport } from './report.js';
import { selectRollback } from './rollback.js';
import { runScheduled } from './schedule.js';
import { TargetError, type TargetContext } from './targets/target.js';
import type { CancelledComponents } from './record/cancelled.js';

/** Where this run comes from, for the record and the commands. */
export interface RunInfo {
  sha: string;
  ref: string;
  creator: string;
  logUrl?: string;
}

/** How a run ended and what it left on the environment. */
export interface DeployResult {
  status: DeployStatus;
  /** Component → the version it runs after this run, for every component the run touched. */
  deployed: Record<string, string>;
  previousVersion: string;
  deploymentId: string;
  environmentUrl: string;
  plan: Plan;
  reports: StepReport[];
  /** One line on why the run did not succeed. */
  message?: string;
}

/** What a run uses besides its plan. */
export interface DeployRunOptions {
  inputs: DeployInputs;
  runtime: Runtime;
  health?: HealthGate;
  migrations?: MigrationStep;
}

/** The context a target's deploy, rollback or status command gets. */
export function targetContext(
  plan: Plan,
  step: PlanStep,
  info: RunInfo,
  rt: Runtime,
  version: string,
  previous: string,
  checkHealth: TargetContext['checkHealth'] = async () => ({ healthy: true, results: [] }),
): TargetContext {
  return {
    checkHealth,
    component: step.component,
    version,
    previousVersion: previous,
    environment: plan.environment,
    environmentUrl: plan.environmentUrl,
    sha: info.sha,
    cwd: rt.cwd,
    runtime: rt,
    onLine: (line) => rt.log.info(`[${step.component}] ${line}`),
  };
}

/** The version the environment ran before: shared by the steps, else the highest of them. */
export function previousVersion(steps: readonly PlanStep[]): string {
  const all = [...new Set(steps.map((s) => s.current).filter(Boolean))];
  if (all.length <= 1) return all[0] ?? '';
  const valid = all.filter((v) => semver.valid(v));
  return valid.length ? valid.sort(semver.rcompare)[0] : all[0];
}

/** The deploy of one plan, under the lock of deployment `deploymentId`. */
export class DeployRun {
  private readonly rt: Runtime;
  private readonly gate: HealthGate;
  private readonly migrate: MigrationStep;
  private readonly steps: Map<string, PlanStep>;
  private readonly reports = new Map<string, StepReport>();
  private readonly migrations = new Map<string, MigrationOutcome>();
  /** Components whose deploy started, in order: what a rollback considers. */
  private readonly attempted = new Set<string>();
  /** Components whose rollback started. */
  private readonly rollingBack = new Set<string>();
  /** Component → the version it runs now, for every component the run touched. */
  private readonly deployed: Record<string, string> = {};

  constructor(
    private readonly plan: Plan,
    private readonly options: DeployRunOptions,
    private readonly info: RunInfo,
    private readonly deploymentId: string,
  ) {
    this.rt = options.runtime;
    this.gate = options.health ?? checkEngineGate;
    this.migrate = options.migrations ?? migrationsStep();
    this.steps = new Map(plan.steps.map((s) => [s.component, s]));
  }

  /** Deploy every step in waves; on a failure, roll back (unless told not to) and say how it ended. */
  async execute(): Promise<DeployResult> {
    const { plan, rt } = this;
    const { inputs } = this.options;
    const order = plan.steps.map((s) => s.component);
    const after = Object.fromEntries(plan.steps.map((s) => [s.component, s.after]));
    const outcome = await runScheduled(order, after, inputs.parallel, (name) => {
      const step = this.steps.get(name)!;
      // Once cancelled nothing new starts: its commands would be refused anyway.
      if (isCancelled()) {
        this.reports.set(name, this.report(step, 'not-run'));
        return Promise.resolve(false);
      }
      const verb = step.kind === 'migrate' ? 'Migrate' : 'Deploy';
      return rt.log.group(`${verb} ${name} ${step.current || '(none)'} → ${step.next}`, () =>
        this.deployComponent(step),
      );
    });
    for (const name of outcome.notRun) this.reports.set(name, this.report(this.steps.get(name)!, 'not-run'));
    if (outcome.failed.length === 0) return this.result('success');

    const first = this.reports.get(outcome.failed[0])!;
    const failure = `${plan.mode} to ${plan.environment} failed at ${first.component} ${first.to}: ${first.message ?? first.result}`;
    // A cancelled run starts nothing more, not even a rollback: the job is being stopped.
    if (isCancelled()) return this.cancelled().result;
    if (!inputs.autoRollback) {
      rt.log.error(`${failure}; auto-rollback is off, so the environment is left as it is.`);
      return this.result('failed', failure);
    }
    const back = await this.rollBack();
    return this.result(back.status, `${failure}; ${back.how}`);
  }

  /** Step one: deploy a component (apply its migrations, or run its target), then gate it on its health. */
  private async deployComponent(step: PlanStep): Promise<boolean> {
    const { plan, rt } = this;
    const started = Date.now();
    const report = this.report(step, 'failed');
    this.reports.set(step.component, report);
    this.attempted.add(step.component);
    this.deployed[step.component] = step.next;
    try {
      if (step.kind === 'migrate') {
        const outcome = await this.migrate({
          component: plan.config.components[step.component],
          environment: plan.environment,
          version: step.next,
          runtime: rt,
        });
        this.migrations.set(step.component, outcome);
        rt.log.info(
          `[${step.component}] ${outcome.applied.length} migration(s) applied${outcome.backup ? `, backup ${outcome.backup}` : ''}${outcome.breaking.length ? `; breaking for the previous version: ${outcome.breaking.join('; ')}` : ''}.`,
        );
      } else {
        const ctx = targetContext(plan, step, this.info, rt, step.next, step.current, (base, shown) =>
          this.gateOnHealth(step, base, shown),
        );
        // A manual rollback returns to a version that ran there: the target's own way back
        // (switching to a kept release, a rollback command), not a fresh deploy of it.
        await (plan.mode === 'rollback' ? step.target!.rollback(ctx) : step.target!.deploy(ctx));
      }
    } catch (err) {
      report.message = isUserError(err) || err instanceof Error ? oneLine(errorMessage(err)) : String(err);
      report.durationMs = Date.now() - started;
      // What runs afterwards: the old version when the target changed nothing, and for a
      // migration that failed (its transaction rolled back, the schema is the old release's).
      if ((err instanceof TargetError && err.unchanged) || step.kind === 'migrate') {
        if (step.kind === 'deploy') report.unchanged = true;
        if (step.current) this.deployed[step.component] = step.current;
        else delete this.deployed[step.component];
      }
      // A command stopped because the run is cancelled is not this step's failure to report.
      if (isCancelled()) rt.log.info(`${step.component}: stopped (${cancelReason()}): ${report.message}`);
      else rt.log.error(`${step.component}: ${report.message}`);
      return false;
    }
    const health = await this.gateOnHealth(step);
    report.health = healthText(health);
    report.durationMs = Date.now() - started;
    if (!health.healthy) {
      report.result = 'unhealthy';
      report.message = `health checks failed: ${health.message ?? ''}`;
      // After a cancel the run's one error line is the cancel's own; this is why it stopped.
      if (isCancelled()) rt.log.info(`${step.component}: stopped (${cancelReason()}): ${report.message}`);
      else rt.log.error(`${step.component} ${step.next} is unhealthy: ${health.message ?? ''}`);
      return false;
    }
    report.result = step.kind === 'migrate' ? 'migrated' : 'deployed';
    rt.log.info(`${step.component} ${step.next}: ${report.result}, ${report.health}.`);
    return true;
  }

  /** Step two: the component's health checks, until they pass or the timeout; an error in the gate is a failed check. */
  private async gateOnHealth(
    step: PlanStep,
    baseUrl = this.plan.environmentUrl,
    shown?: (text: string) => string,
  ): Promise<HealthOutcome> {
    if (step.checks.length === 0) return { healthy: true, results: [] };
    const health = await this.gate({
      component: step.component,
      checks: step.checks,
      baseUrl,
      timeoutMs: this.options.inputs.timeout * 1000,
      runtime: shown ? rewritingLog(this.rt, shown) : this.rt,
    }).catch((err: unknown): HealthOutcome => ({ healthy: false, results: [], message: errorMessage(err) }));
    return shown && health.message ? { ...health, message: shown(health.message) } : health;
  }

  /** Step three: put back the last good version of what the run deployed, in reverse waves, as the schema allows. */
  private async rollBack(): Promise<{ status: DeployStatus; how: string }> {
    const { plan, rt } = this;
    // A step that changed nothing needs no rollback (and one would fail as it did).
    const changed = new Set([...this.attempted].filter((n) => !this.reports.get(n)?.unchanged));
    const unchanged = [...this.attempted].filter((n) => this.reports.get(n)?.unchanged);
    const selection = selectRollback(plan, changed, this.migrations, this.options.inputs.forceRollback);
    if (selection.stop) rt.log.error(selection.stop);
    for (const { step, reason } of selection.left)
      this.reports.get(step.component)!.rollback = { result: 'left', detail: reason };
    let allBack = selection.left.length === 0;
    for (const wave of selection.waves) {
      const names = wave.map((s) => s.component);
      rt.log.info(`Rolling back ${names.map((n) => `${n} → ${this.steps.get(n)!.current}`).join(', ')}.`);
      const r = await runScheduled(
        names,
        {},
        this.options.inputs.parallel,
        (name) => {
          const step = this.steps.get(name)!;
          return rt.log.group(`Roll back ${name} ${step.next} → ${step.current}`, () => this.rollBackComponent(step));
        },
        { stopOnFailure: false },
      );
      if (r.failed.length) allBack = false;
    }
    // rolled-back means something was put back: a run whose only step was a failed migration
    // (migrations are forward-only) rolled nothing back, and ends failed.
    const rolledBack = selection.waves.length > 0;
    const wavesBack = selection.waves
      .flat()
      .every((w) => this.reports.get(w.component)?.rollback?.result === 'rolled-back');
    const first = selection.left.filter((l) => !l.step.current).map((l) => l.step.component);
    const unknown = selection.left.filter((l) => l.step.current && l.step.unknown).map((l) => l.step.component);
    const parts = [
      unchanged.length &&
        `nothing changed for ${unchanged.map((n) => `${n} (still ${this.steps.get(n)!.current || 'not deployed'})`).join(', ')}`,
      first.length && `${first.join(', ')}: first deploy, no earlier version to roll back to`,
      unknown.length &&
        `${unknown.join(', ')}: left as ${unknown.length === 1 ? 'it is' : 'they are'}, what ran before is unknown`,
      rolledBack && (wavesBack ? 'rolled back to the last good versions' : 'the rollback did not complete'),
      selection.stop && 'rollback stopped by the schema-safety check',
    ].filter(Boolean);
    const how = parts.length ? parts.join('; ') : 'nothing this run deployed could be rolled back';
    return { status: allBack && rolledBack ? 'rolled-back' : 'failed', how };
  }

  /** Roll one component back to its last good version and gate that on its health. */
  private async rollBackComponent(step: PlanStep): Promise<boolean> {
    const { rt } = this;
    const report = this.reports.get(step.component)!;
    this.rollingBack.add(step.component);
    try {
      await step.target!.rollback(
        targetContext(this.plan, step, this.info, rt, step.current, step.next, (base, shown) =>
          this.gateOnHealth(step, base, shown),
        ),
      );
    } catch (err) {
      report.rollback = { result: 'failed', detail: oneLine(errorMessage(err)) };
      // A rollback command stopped by a cancel: the cancel prints the run's one error line.
      if (isCancelled())
        rt.log.info(`Rollback of ${step.component} stopped (${cancelReason()}): ${report.rollback.detail}`);
      else rt.log.error(`Rollback of ${step.component} to ${step.current} failed: ${report.rollback.detail}`);
      return false;
    }
    // The rollback command ran: the component runs the old version now, healthy or not.
    this.deployed[step.component] = step.current;
    const health = await this.gateOnHealth(step);
    if (!health.healthy) {
      report.rollback = { result: 'failed', detail: `back on ${step.current} but unhealthy: ${health.message ?? ''}` };
      if (isCancelled())
        rt.log.info(`${step.component}: rollback stopped (${cancelReason()}): ${report.rollback.detail}`);
      else rt.log.error(`${step.component} ${step.current} is unhealthy after the rollback: ${health.message ?? ''}`);
      return false;
    }
    report.rollback = { result: 'rolled-back', detail: `to ${step.current}, ${healthText(health)}` };
    return true;
  }

  /**
   * How the run stands once it is cancelled, at any moment (its commands are stopped; a health
   * gate may still be polling): each started component is done, back on its old version, or
   * stopped in the middle, where the version it runs is not known. Nothing is rolled back.
   */
  cancelled(): { result: DeployResult; components: CancelledComponents } {
    const reason = cancelReason() ?? 'cancelled';
    const components: CancelledComponents = { stopped: {}, done: {} };
    const back: string[] = [];
    for (const name of this.attempted) {
      const step = this.steps.get(name)!;
      const report = this.reports.get(name)!;
      if (report.rollback?.result === 'rolled-back') back.push(name);
      else if ((report.result === 'deployed' || report.result === 'migrated') && !this.rollingBack.has(name))
        components.done[name] = step.next;
      else {
        components.stopped[name] = step.next;
        report.message ??= `stopped (${reason})`;
      }
    }
    for (const s of this.plan.steps)
      if (!this.reports.has(s.component)) this.reports.set(s.component, this.report(s, 'not-run'));
    const stopped = Object.keys(components.stopped).filter((n) => !this.rollingBack.has(n));
    const stoppedBack = Object.keys(components.stopped).filter((n) => this.rollingBack.has(n));
    const notRun = this.plan.steps.filter((s) => !this.attempted.has(s.component)).map((s) => s.component);
    const parts = [
      stopped.length &&
        `${stopped.join(', ')} stopped in the middle, left as ${stopped.length === 1 ? 'it is' : 'they are'} (not rolled back)`,
      stoppedBack.length &&
        `${stoppedBack.join(', ')} stopped in the middle of the rollback, left as ${stoppedBack.length === 1 ? 'it is' : 'they are'}`,
      Object.keys(components.done).length && `${Object.keys(components.done).join(', ')} done`,
      back.length && `${back.join(', ')} rolled back`,
      notRun.length && `${notRun.join(', ')} not started`,
    ].filter(Boolean);
    const message = `${this.plan.mode} to ${this.plan.environment} cancelled (${reason})${parts.length ? `: ${parts.join('; ')}` : ''}`;
    return { result: this.result('cancelled', message), components };
  }

  private report(step: PlanStep, result: StepReport['result']): StepReport {
    return {
      component: step.component,
      kind: step.kind,
      from: step.current,
      to: step.next,
      result,
      durationMs: 0,
      health: '—',
    };
  }

  private result(status: DeployStatus, message?: string): DeployResult {
    const plan = this.plan;
    return {
      status,
      deployed: { ...this.deployed },
      previousVersion: previousVersion(plan.steps),
      deploymentId: this.deploymentId,
      environmentUrl: plan.environmentUrl,
      plan,
      reports: plan.steps.map((s) => this.reports.get(s.component)!),
      ...(message ? { message } : {}),
    };
  }
}
