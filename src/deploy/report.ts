/** What each component of a run did, and the job summary that shows it. */
import { mermaidGraph, type NodeClass } from '../core/graph.js';
import { duration, table } from '../core/markdown.js';
import type { HealthOutcome } from './health.js';
import { planGraph, type Plan, type PlanStep } from './plan.js';

/** How a run ended. */
export type DeployStatus = 'success' | 'rolled-back' | 'failed' | 'cancelled';

/** One component's result. */
export interface StepReport {
  component: string;
  kind: 'deploy' | 'migrate';
  from: string;
  to: string;
  result: 'deployed' | 'migrated' | 'failed' | 'unhealthy' | 'not-run';
  /** It failed before it changed what serves: the version it replaced still runs. */
  unchanged?: boolean;
  /** What the automatic rollback did with it, when it ran. */
  rollback?: { result: 'rolled-back' | 'failed' | 'left'; detail: string };
  durationMs: number;
  health: string;
  message?: string;
}

/** The health column: "2/2 passed", "no checks", or what failed. */
export function healthText(outcome: HealthOutcome | null): string {
  if (!outcome) return '—';
  if (outcome.results.length === 0) return 'no checks';
  const passed = outcome.results.filter((r) => r.passed).length;
  return outcome.healthy
    ? `${passed}/${outcome.results.length} passed`
    : `${passed}/${outcome.results.length} passed: ${outcome.message ?? ''}`;
}

/** The plan as log lines, wave by wave. */
export function planLines(plan: Plan): string[] {
  const lines = plan.waves.map(
    (names, i) =>
      `Wave ${i + 1}: ${names
        .map((n) => {
          const s = plan.steps.find((x) => x.component === n)!;
          return `${n}${s.kind === 'migrate' ? ' (migrations)' : ''} ${fromText(s, '(none)')} → ${s.next}${s.running !== undefined ? ` [running: ${s.running ?? 'unknown'}]` : ''}`;
        })
        .join(', ')}`,
  );
  for (const s of plan.steps) if (s.unknown) lines.push(`${s.component} runs an unknown version: ${s.unknown}.`);
  for (const s of plan.skipped) lines.push(`Skipped ${s.component}: ${s.reason}.`);
  return lines;
}

/** The version a step starts from, as the plan shows it: `unknown (1.1.0?)` when an interrupted run left it unknown. */
function fromText(s: PlanStep, none: string): string {
  if (s.unknown) return `unknown (${s.current}?)`;
  return s.current || none;
}

/** How a component ended, as the summary's graph colours it. */
type Outcome = 'deployed' | 'rolled-back' | 'failed' | 'skipped';

const OUTCOME_CLASS: Record<Outcome, NodeClass> = {
  deployed: { name: 'deployed', style: 'fill:#d1f7c4,stroke:#2b8a3e' },
  'rolled-back': { name: 'rolledBack', style: 'fill:#ffe8a3,stroke:#b07d00' },
  failed: { name: 'failed', style: 'fill:#ffc9c9,stroke:#c92a2a' },
  skipped: { name: 'skipped', style: 'fill:#f1f3f5,stroke:#868e96,color:#868e96' },
};

/**
 * A component's outcome: put back by the rollback, failed (its step, or the rollback of it),
 * deployed (or migrated), or skipped (not run, or not in this run).
 */
function outcomeOf(report: StepReport | undefined): Outcome {
  if (!report || report.result === 'not-run') return 'skipped';
  if (report.rollback?.result === 'rolled-back') return 'rolled-back';
  if (report.rollback?.result === 'failed') return 'failed';
  if (report.result === 'failed' || report.result === 'unhealthy') return 'failed';
  return 'deployed';
}

/** The graph of a finished run, each component coloured by how it ended. */
function outcomeGraph(plan: Plan, reports: readonly StepReport[]): string {
  const byName = new Map(reports.map((r) => [r.component, r]));
  return mermaidGraph(plan.deps, { classOf: (n) => OUTCOME_CLASS[outcomeOf(byName.get(n))] });
}

/** The job summary of a run (or of a dry run when `reports` is null). */
export function deploySummary(plan: Plan, status: DeployStatus | 'planned', reports: StepReport[] | null): string {
  const title = `## ${plan.mode === 'rollback' ? 'Rollback' : 'Deploy'} to ${plan.environment}: ${status}`;
  const out = [title, '', reports ? outcomeGraph(plan, reports) : planGraph(plan), ''];
  if (reports) out.push('Green: deployed · amber: rolled back · red: failed · grey: skipped or not in this run.', '');
  if (!reports) {
    out.push(
      table(
        ['wave', 'component', 'now', 'next', 'commands'],
        plan.steps.map((s) => [
          s.wave + 1,
          s.component,
          fromText(s, '—'),
          s.next,
          Object.entries(s.commands)
            .map(([k, v]) => `${k}: \`${v}\``)
            .join('<br>'),
        ]),
      ),
    );
  } else {
    out.push(
      table(
        ['component', 'version', 'result', 'duration', 'health', 'rollback'],
        reports.map((r) => [
          r.component,
          `${r.from || '—'} → ${r.to}`,
          r.message && r.result !== 'deployed' && r.result !== 'migrated' ? `${r.result}: ${r.message}` : r.result,
          r.result === 'not-run' ? '—' : duration(r.durationMs),
          r.health,
          r.rollback ? `${r.rollback.result}: ${r.rollback.detail}` : '—',
        ]),
      ),
    );
  }
  if (plan.skipped.length) {
    out.push('', ...plan.skipped.map((s) => `- ${s.component}: ${s.reason}`));
  }
  out.push('');
  return out.join('\n');
}
