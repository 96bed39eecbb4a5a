/**
 * The notifications a deploy sends: deploy-started once the environment is held, and at the
 * end deploy-succeeded, deploy-rolled-back or deploy-failed (plus migration-failed when a
 * migrations step failed), each saying which versions moved, which component failed and
 * whether the rollback held.
 */
import type { SlipwayConfig } from '../core/config.js';
import type { Runtime } from '../core/runtime.js';
import { notify, type Notification } from '../notify/notify.js';
import type { Plan } from './plan.js';
import type { DeployStatus, StepReport } from './report.js';

/** What the run knows when it announces. */
export interface Announcement {
  environment: string;
  plan?: Plan;
  /** True for a manual rollback run. */
  rollback?: boolean;
  reports?: StepReport[];
  creator?: string;
  logUrl?: string;
}

/**
 * The versions a message lists: what the run set out to move, or at its end what it did move
 * (a component never started, or one that failed before it changed anything, did not; one
 * rolled back did, and the rollback line says it went back).
 */
function versionsOf(a: Announcement): Notification['versions'] {
  const steps = a.plan?.steps ?? [];
  if (!a.reports) return steps.map((s) => ({ component: s.component, from: s.current, to: s.next }));
  const moved = new Set(a.reports.filter((r) => r.result !== 'not-run' && !r.unchanged).map((r) => r.component));
  return steps
    .filter((s) => moved.has(s.component))
    .map((s) => ({ component: s.component, from: s.current, to: s.next }));
}

/** The common part of every deploy notification. */
function base(a: Announcement): Omit<Notification, 'event' | 'title'> {
  return {
    environment: a.environment,
    environmentUrl: a.plan?.environmentUrl || undefined,
    versions: versionsOf(a),
    actor: a.creator,
    runUrl: a.logUrl,
    url: a.logUrl || a.plan?.environmentUrl || undefined,
  };
}

function what(a: Announcement): string {
  return a.plan?.mode === 'rollback' || (!a.plan && a.rollback) ? 'Rollback of' : 'Deploy to';
}

/** Whether the automatic rollback restored what it touched: undefined when none ran. */
function rollbackHeld(reports: readonly StepReport[]): boolean | undefined {
  const tried = reports.filter((r) => r.rollback && r.rollback.result !== 'left');
  if (tried.length === 0) return undefined;
  return tried.every((r) => r.rollback!.result === 'rolled-back');
}

/** The end-of-run notifications for `status`. */
function resultNotifications(a: Announcement, status: DeployStatus, message?: string): Notification[] {
  const reports = a.reports ?? [];
  const failed = reports.find((r) => r.result === 'failed' || r.result === 'unhealthy');
  const event =
    status === 'success' ? 'deploy-succeeded' : status === 'rolled-back' ? 'deploy-rolled-back' : 'deploy-failed';
  const common = {
    ...base(a),
    // No report: the run stopped before any step (a refusal, a lock it never got), so nothing moved.
    versions: a.reports ? versionsOf(a) : [],
    status,
    text: message,
    failedComponent: failed?.component,
    rollbackHeld: status === 'success' ? undefined : rollbackHeld(reports),
  };
  const out: Notification[] = [{ ...common, event, title: `${what(a)} ${a.environment}: ${status}` }];
  const migration = reports.find((r) => r.kind === 'migrate' && r.result === 'failed');
  if (migration)
    out.push({
      ...common,
      event: 'migration-failed',
      title: `Migrations of ${migration.component} failed on ${a.environment}`,
      text: migration.message ?? message,
      failedComponent: migration.component,
    });
  return out;
}

/** Send deploy-started (channels opt in to it). */
export async function announceStart(config: SlipwayConfig, a: Announcement, rt: Runtime): Promise<void> {
  await notify(
    config.notify,
    { ...base(a), event: 'deploy-started', title: `${what(a)} ${a.environment}: started` },
    rt,
  );
}

/** Send the end-of-run notifications. */
export async function announceResult(
  config: SlipwayConfig,
  a: Announcement,
  status: DeployStatus,
  message: string | undefined,
  rt: Runtime,
): Promise<void> {
  for (const n of resultNotifications(a, status, message)) await notify(config.notify, n, rt);
}
