/**
 * The plan: which components this run deploys, at which versions, in which order. Waves
 * come from the whole `dependsOn` graph, so a component that is not redeployed still
 * orders the ones around it; each step waits for every step it depends on, directly or
 * through components that are not in the run.
 */
import { healthChecks, type Check } from '../checks/index.js';
import { dependencyMap, type SlipwayConfig } from '../core/config.js';
import { mermaid, waves as graphWaves, type DependencyMap } from '../core/graph.js';
import { TARGETS } from './targets/index.js';
import { buildTarget, type DeployTarget, type TargetFactories } from './targets/target.js';

/** One component of the run. */
export interface PlanStep {
  component: string;
  /** `migrate` runs the migrate domain; `deploy` runs the component's target. */
  kind: 'deploy' | 'migrate';
  /** Index of its wave in `Plan.waves`. */
  wave: number;
  /** The steps it waits for. */
  after: string[];
  /**
   * The version it runs: the last good one ('' when none is recorded); for a manual rollback,
   * the one an interrupted run was moving it to, when one was (see `unknown`).
   */
  current: string;
  /** Set when what it runs is not known (an interrupted run stopped in the middle of it): why. */
  unknown?: string;
  next: string;
  target?: DeployTarget;
  /** The commands (or migrations settings) the plan shows. */
  commands: Record<string, string>;
  checks: Check[];
  /** What the target's `status` reported in a dry run (null: it could not tell). */
  running?: string | null;
}

/** A component of the graph that this run leaves alone, and why. */
interface SkippedComponent {
  component: string;
  reason: string;
}

/** The whole run. */
export interface Plan {
  environment: string;
  environmentUrl: string;
  mode: 'deploy' | 'rollback';
  /** Steps in execution order (wave by wave, declaration order within a wave). */
  steps: PlanStep[];
  /** Component names per wave, steps only. */
  waves: string[][];
  skipped: SkippedComponent[];
  deps: DependencyMap;
  config: SlipwayConfig;
}

/** What decides a component's next version: a version, or a reason to skip it. */
export type VersionChoice = { next: string } | { skip: string };

/** Inputs of buildPlan. */
export interface PlanRequest {
  config: SlipwayConfig;
  environment: string;
  environmentUrl: string;
  mode: 'deploy' | 'rollback';
  /** The components asked for; every other one is only a node of the graph. */
  selected: ReadonlySet<string>;
  /** The version each component runs on the environment (see PlanStep.current). */
  current: Record<string, string>;
  /** Component → why the version it runs is not known. */
  unknown?: Record<string, string>;
  choose(component: string, current: string, kind: PlanStep['kind']): VersionChoice;
  /** The target kinds (default: every target deploy ships). */
  targets?: TargetFactories;
}

/**
 * Build every component's target, so a bad `deploy:` (a misspelt target, a missing key) fails
 * in one located line before anything runs, deploys or notifies; not only when deploy plans.
 */
export function checkTargets(config: SlipwayConfig, factories: TargetFactories = TARGETS): void {
  for (const [name, c] of Object.entries(config.components))
    if (c.deploy && !c.migrate) targetOf(config, name, factories);
}

function targetOf(config: SlipwayConfig, name: string, factories: TargetFactories): DeployTarget {
  const component = config.components[name];
  return buildTarget(
    {
      component,
      deploy: component.deploy!,
      others: Object.values(config.components)
        .filter((c) => c.name !== name && c.deploy)
        .map((c) => c.deploy!),
      errorAt: (key, message) => config.errorAt(['components', name, 'deploy', key], message),
    },
    factories,
  );
}

/** Build the plan; bad deploy or health settings throw located errors before anything runs. */
export function buildPlan(request: PlanRequest): Plan {
  const { config } = request;
  const deps = dependencyMap(config);
  const steps: PlanStep[] = [];
  const skipped: SkippedComponent[] = [];
  const levels = graphWaves(deps);
  for (const [level, names] of levels.entries()) {
    for (const name of names) {
      if (!request.selected.has(name)) continue;
      const c = config.components[name];
      if (!c.deploy && !c.migrate) {
        skipped.push({ component: name, reason: 'nothing to deploy (no deploy: or migrate:)' });
        continue;
      }
      const kind = c.migrate ? 'migrate' : 'deploy';
      const current = request.current[name] ?? '';
      const choice = request.choose(name, current, kind);
      if ('skip' in choice) {
        skipped.push({ component: name, reason: choice.skip });
        continue;
      }
      const target = kind === 'deploy' ? targetOf(config, name, request.targets ?? TARGETS) : undefined;
      steps.push({
        component: name,
        kind,
        wave: level,
        after: [],
        current,
        ...(request.unknown?.[name] ? { unknown: request.unknown[name] } : {}),
        next: choice.next,
        target,
        commands: target ? target.describe() : migrateDescription(c.migrate!),
        checks: healthChecks(config, name),
      });
    }
  }
  const inRun = new Set(steps.map((s) => s.component));
  for (const s of steps) s.after = [...ancestors(deps, s.component)].filter((a) => inRun.has(a));
  // Renumber waves so they count only the waves that have a step.
  const used = [...new Set(steps.map((s) => s.wave))].sort((a, b) => a - b);
  for (const s of steps) s.wave = used.indexOf(s.wave);
  const waves = used.map((_, i) => steps.filter((s) => s.wave === i).map((s) => s.component));
  return {
    environment: request.environment,
    environmentUrl: request.environmentUrl,
    mode: request.mode,
    steps,
    waves,
    skipped,
    deps,
    config,
  };
}

function migrateDescription(m: { dir: string; tool: string; command?: string }): Record<string, string> {
  const out: Record<string, string> = { migrate: `${m.tool} migrations in ${m.dir}` };
  if (m.command) out.command = m.command;
  return out;
}

/** Everything `name` depends on, directly or transitively. */
export function ancestors(deps: DependencyMap, name: string): Set<string> {
  const out = new Set<string>();
  const stack = [...(deps[name] ?? [])];
  while (stack.length) {
    const n = stack.pop()!;
    if (out.has(n)) continue;
    out.add(n);
    stack.push(...(deps[n] ?? []));
  }
  return out;
}

/** The plan as the `plan` output carries it. */
export function planJson(plan: Plan): unknown {
  return {
    environment: plan.environment,
    mode: plan.mode,
    waves: plan.waves.map((names) =>
      names.map((name) => {
        const s = plan.steps.find((x) => x.component === name)!;
        return {
          component: name,
          kind: s.kind,
          current: s.current || null,
          next: s.next,
          after: s.after,
          commands: s.commands,
          health: s.checks.map((c) => c.name),
        };
      }),
    ),
    skipped: plan.skipped,
  };
}

/** The Mermaid graph of the plan: the whole dependency graph, this run's steps highlighted. */
export function planGraph(plan: Plan): string {
  return mermaid(plan.deps, new Set(plan.steps.map((s) => s.component)));
}
