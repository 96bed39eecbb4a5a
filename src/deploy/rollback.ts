/**
 * Automatic rollback: every component this run deployed goes back to its last good version,
 * in reverse wave order. Migrations are not undone; when they applied changes the old
 * version cannot run on, the components that need the schema are left alone unless
 * `force-rollback` says otherwise.
 */
import { ancestors, type Plan, type PlanStep } from './plan.js';
import type { MigrationOutcome } from './migrations.js';

/** Which deployed steps may be rolled back, and why the others may not. */
export interface RollbackSelection {
  /** Steps to roll back, in the order to do it (reverse waves). */
  waves: PlanStep[][];
  /** Steps left as they are, with the reason. */
  left: { step: PlanStep; reason: string }[];
  /** The schema-safety stop, one line, when it applies. */
  stop?: string;
}

/** Decide what the automatic rollback does with the steps this run attempted. */
export function selectRollback(
  plan: Plan,
  attempted: ReadonlySet<string>,
  migrations: ReadonlyMap<string, MigrationOutcome>,
  force: boolean,
): RollbackSelection {
  const unsafe = [...migrations.entries()].filter(([, m]) => m.applied.length > 0 && m.breaking.length > 0);
  const left: RollbackSelection['left'] = [];
  const chosen: PlanStep[] = [];
  const blocked: string[] = [];
  for (const step of plan.steps) {
    if (!attempted.has(step.component) || step.kind !== 'deploy') continue;
    if (!step.current) {
      left.push({ step, reason: 'no earlier good version is recorded' });
      continue;
    }
    // What ran before is only a version an interrupted run was deploying: never put back unverified.
    if (step.unknown) {
      left.push({ step, reason: `what it ran before is unknown (${step.unknown})` });
      continue;
    }
    const needs = ancestors(plan.deps, step.component);
    const schema = unsafe.find(([name]) => needs.has(name));
    if (schema && !force) {
      blocked.push(step.component);
      left.push({ step, reason: `needs the schema migrated by ${schema[0]}` });
      continue;
    }
    chosen.push(step);
  }
  let stop: string | undefined;
  if (blocked.length) {
    const [name, m] = unsafe.find(([n]) => blocked.some((b) => ancestors(plan.deps, b).has(n)))!;
    stop =
      `Automatic rollback stopped before ${blocked.join(', ')}: the migrations of ${name} applied changes the previous version cannot run on ` +
      `(${m.breaking.slice(0, 3).join('; ')}${m.breaking.length > 3 ? '; …' : ''}); ` +
      `${m.backup ? `the backup taken before them is ${m.backup}` : 'no backup was taken'}; set force-rollback: true to roll back anyway.`;
  }
  const byWave = new Map<number, PlanStep[]>();
  for (const s of chosen) (byWave.get(s.wave) ?? byWave.set(s.wave, []).get(s.wave)!).push(s);
  const waves = [...byWave.entries()].sort((a, b) => b[0] - a[0]).map(([, steps]) => steps);
  return { waves, left, stop };
}
