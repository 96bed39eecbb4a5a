/**
 * Where the CLI runs an action differently from the runner: the deploy record is a file
 * ledger in `.slipway/` instead of GitHub Deployments, and migrations default to an
 * embedded PGlite database. Everything else runs the action's own code.
 */
import type { Runtime } from '../core/runtime.js';

/** An action's local replacement. */
export type LocalRunner = (inputs: Record<string, unknown>, rt: Runtime) => Promise<void>;

const RUNNERS: Record<string, () => LocalRunner> = {};

/** Register a local runner for an action (done by the modules that need one). */
export function registerLocalRunner(name: string, factory: () => LocalRunner): void {
  RUNNERS[name] = factory;
}

/** The local runner for `name`, or null to run the action as it is. */
export function localRunner(name: string): LocalRunner | null {
  return RUNNERS[name]?.() ?? null;
}

/** Every registered local runner, as pipeline overrides. */
export function localOverrides(): Record<string, LocalRunner> {
  return Object.fromEntries(Object.entries(RUNNERS).map(([name, factory]) => [name, factory()]));
}
