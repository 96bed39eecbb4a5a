/**
 * Deploy targets: how a component is put on an environment. Each kind is a factory in the
 * constant map of targets/index.ts (as release-please maps a strategy name to a builder);
 * see docs/architecture.md for adding one.
 */
import type { ComponentConfig, DeployConfig } from '../../core/config.js';
import type { Runtime } from '../../core/runtime.js';
import type { HealthOutcome } from '../health.js';

/** What a target is told for one deploy or rollback. */
export interface TargetContext {
  component: string;
  /** The version to run after this step (for a rollback: the version to return to). */
  version: string;
  /** The version running before this step ('' when none is recorded). */
  previousVersion: string;
  environment: string;
  environmentUrl: string;
  sha: string;
  /** The repository, where commands run. */
  cwd: string;
  runtime: Runtime;
  /** Each line of the target's output, already attributed to the component. */
  onLine(line: string): void;
  /**
   * Run the component's health checks against `baseUrl` (a slot before traffic moves to it;
   * see addressBaseUrl for a Unix socket) until they pass or the run's timeout. `shown`
   * rewrites their log lines and verdict: a slot reached through a temporary address is
   * named as the user knows it.
   */
  checkHealth(baseUrl: string, shown?: (text: string) => string): Promise<HealthOutcome>;
}

/** A failed deploy, rollback or status step; the message is one line. */
export class TargetError extends Error {
  /**
   * True when the step failed before it changed what serves (an upload, a start on the idle
   * slot, a refused configuration): the old version still runs, so there is nothing to roll back.
   */
  readonly unchanged: boolean;
  constructor(message: string, options: { unchanged?: boolean } = {}) {
    super(message);
    this.name = 'TargetError';
    this.unchanged = options.unchanged ?? false;
  }
}

/** `err` as a TargetError that says nothing changed (an error of any kind, kept as one line). */
export function unchangedError(err: unknown): TargetError {
  if (err instanceof TargetError && err.unchanged) return err;
  return new TargetError(err instanceof Error ? err.message : String(err), { unchanged: true });
}

/** One component's way to deploy, roll back and report its running version. */
export interface DeployTarget {
  /** The registry name (`command`, `ssh`, ...). */
  readonly kind: string;
  /** Put `ctx.version` on the environment; throws TargetError on failure. */
  deploy(ctx: TargetContext): Promise<void>;
  /** Return to `ctx.version` (the last good one); throws TargetError on failure. */
  rollback(ctx: TargetContext): Promise<void>;
  /** The running version, when the target can tell; null when it cannot. */
  status?(ctx: TargetContext): Promise<string | null>;
  /**
   * What a real run of this step would refuse before changing anything, read without writing
   * (a dry run asks, so a plan fails where the run would); null when nothing is in the way.
   */
  preflight?(ctx: TargetContext, mode: 'deploy' | 'rollback'): Promise<string | null>;
  /** What the plan shows for this target: step name → command or description. */
  describe(): Record<string, string>;
}

/** What a factory receives: the component and its `deploy:` mapping (with any plugin keys). */
export interface TargetOptions {
  component: ComponentConfig;
  deploy: DeployConfig;
  /** The other components' deploy settings (compose: the image variables a shared file reads). */
  others?: readonly DeployConfig[];
  /** A located error about a key of `components.<name>.deploy`. */
  errorAt(key: string, message: string): Error;
}

/** Builds a target from the policy file; throws a located error on bad settings. */
export type TargetFactory = (options: TargetOptions) => DeployTarget;

/** Target kinds by name, as the policy file's `deploy.target` names them. */
export type TargetFactories = Readonly<Record<string, TargetFactory>>;

/** The target of a component from `factories`, or a located error naming the kinds that exist. */
export function buildTarget(options: TargetOptions, factories: TargetFactories): DeployTarget {
  const kind = options.deploy.target;
  const factory = Object.hasOwn(factories, kind) ? factories[kind] : undefined;
  if (!factory)
    throw options.errorAt(
      'target',
      `unknown deploy target "${kind}" (expected one of: ${Object.keys(factories).join(', ')})`,
    );
  return factory(options);
}
