/**
 * Where the CLI runs an action differently from the runner: the deploy record is a file
 * ledger in `.slipway/` instead of GitHub Deployments, migrations default to an embedded
 * PGlite database, and tag-release writes a local tag. Everything else runs the action's own code.
 */
import type { Runtime } from '../core/runtime.js';
import { deployLocally } from '../deploy/local.js';
import { migrateLocally } from '../migrations/local.js';
import { tagReleaseLocally } from './local-tag-release.js';

/** An action's local replacement. */
export type LocalRunner = (inputs: Record<string, unknown>, rt: Runtime) => Promise<void>;

/** The actions with a local form, by action name. */
const LOCAL_RUNNERS: Readonly<Record<string, LocalRunner>> = {
  deploy: deployLocally,
  migrate: migrateLocally,
  'tag-release': tagReleaseLocally,
};

/** The local runner for `name`, or null to run the action as it is. */
export function localRunner(name: string): LocalRunner | null {
  return Object.hasOwn(LOCAL_RUNNERS, name) ? LOCAL_RUNNERS[name] : null;
}

/** Every local runner, as pipeline overrides. */
export function localOverrides(): Record<string, LocalRunner> {
  return { ...LOCAL_RUNNERS };
}
