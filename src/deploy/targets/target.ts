/**
 * Deploy targets: how a component is put on an environment. The `command` target ships
 * here; SSH, Kubernetes or compose targets plug in through `registerTarget`, the way
 * release-please's factories map a strategy name to a builder (see docs/deploy.md).
 */
import type { ComponentConfig, DeployConfig } from '../../core/config.js';
import type { Runtime } from '../../core/runtime.js';

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
}

/** A failed deploy, rollback or status step; the message is one line. */
export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetError';
  }
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
  /** What the plan shows for this target: step name → command or description. */
  describe(): Record<string, string>;
}

/** What a factory receives: the component and its `deploy:` mapping (with any plugin keys). */
export interface TargetOptions {
  component: ComponentConfig;
  deploy: DeployConfig;
  /** A located error about a key of `components.<name>.deploy`. */
  errorAt(key: string, message: string): Error;
}

/** Builds a target from the policy file; throws a located error on bad settings. */
export type TargetFactory = (options: TargetOptions) => DeployTarget;

const factories = new Map<string, TargetFactory>();

/** Make `deploy.target: <kind>` available. A later registration of the same kind replaces it. */
export function registerTarget(kind: string, factory: TargetFactory): void {
  factories.set(kind, factory);
}

/** The registered target kinds, for error messages and docs. */
export function targetKinds(): string[] {
  return [...factories.keys()];
}

/** The target of a component, or a located error naming the kinds that exist. */
export function buildTarget(options: TargetOptions): DeployTarget {
  const kind = options.deploy.target;
  const factory = factories.get(kind);
  if (!factory)
    throw options.errorAt('target', `unknown deploy target "${kind}" (expected one of: ${targetKinds().join(', ')})`);
  return factory(options);
}
