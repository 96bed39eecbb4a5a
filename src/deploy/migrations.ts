/**
 * A component with `migrate:` in the policy file is a migrations step: deploy runs the
 * migrate domain for it (its lock, lint and backup) before anything that depends on it.
 */
import type { ComponentConfig } from '../core/config.js';
import type { Runtime } from '../core/runtime.js';

/** What a migrations step tells deploy. */
export interface MigrationOutcome {
  /** The migrations applied by this run. */
  applied: string[];
  /** Where the pre-migration backup is, when one was taken. */
  backup: string | null;
  /**
   * Lint findings among the applied migrations that the previous version of the
   * application cannot run on (dropped or renamed columns, new NOT NULL without default...).
   */
  breaking: string[];
}

/** What a migrations step receives. */
interface MigrationRequest {
  component: ComponentConfig;
  environment: string;
  version: string;
  runtime: Runtime;
}

/** Runs one component's migrations; throws (a UserError) when they fail. */
export type MigrationStep = (request: MigrationRequest) => Promise<MigrationOutcome>;
