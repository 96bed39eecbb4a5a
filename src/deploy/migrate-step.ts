/**
 * The migrations step over the migrate domain (src/migrations): the same lock, lint, backup
 * and transactional apply as the migrate action, for a component with `migrate:`.
 */
import path from 'node:path';
import type { ComponentConfig } from '../core/config.js';
import { UserError } from '../core/errors.js';
import type { Database } from '../migrations/database.js';
import { LOCK_ONLY_RULES } from '../migrations/lint.js';
import { allowDestructiveInPolicy, runMigrations } from '../migrations/runner.js';
import type { MigrationStep } from './migrations.js';

/** Lint rules whose change the previous version can still run on (they only lock). */
const COMPATIBLE_RULES: ReadonlySet<string> = LOCK_ONLY_RULES;

/** How deploy reaches the databases. */
export interface MigrationStepOptions {
  /** Opens a database for a component whose URL variable is unset (the CLI's PGlite folder). */
  embedded?: (component: ComponentConfig) => Promise<Database>;
  /** Where backups go (default: the migrate domain's, $RUNNER_TEMP or the temporary folder). */
  backupDir?: string;
}

/** A MigrationStep that runs `runMigrations` for the component's `migrate:` settings. */
export function migrationsStep(options: MigrationStepOptions = {}): MigrationStep {
  return async ({ component, runtime }) => {
    const m = component.migrate!;
    const variable = m.database?.env ?? 'DATABASE_URL';
    const url = runtime.env[variable]?.trim() || undefined;
    runtime.mask(url);
    let database: Database | undefined;
    if (!url) {
      if (!options.embedded)
        throw new UserError(
          `components.${component.name}.migrate.database: the variable ${variable} is empty (expected the PostgreSQL URL to migrate, from a secret)`,
        );
      database = await options.embedded(component);
    }
    try {
      const result = await runMigrations(
        {
          dir: m.dir,
          // The folder comes from the policy file, not from the migrate action's dir input.
          dirFrom: `components.${component.name}.migrate.dir`,
          databaseUrl: url,
          databaseFrom: `components.${component.name}.migrate.database: the variable ${variable}`,
          database,
          tool: m.tool,
          format: m.format,
          command: m.command,
          table: m.table,
          allowDestructive: m.allowDestructive,
          allowDestructiveHow: allowDestructiveInPolicy(component.name),
          backup: true,
          backupDir: options.backupDir,
        },
        runtime,
      );
      const applied = result.applied.filter((a) => a.direction === 'up').map((a) => a.file);
      const appliedFiles = new Set(applied);
      const breaking = result.findings
        .filter((f) => appliedFiles.has(f.file) && !COMPATIBLE_RULES.has(f.rule))
        .map((f) => `${f.file}:${f.line}: ${f.message}`);
      // Where it outlives the job comes first: the local file goes with the runner's temp folder.
      const backup = result.backupLocation
        ? `${result.backupLocation} (${path.basename(result.backup)})`
        : result.backup || null;
      return { applied, backup, breaking };
    } finally {
      await database?.close();
    }
  };
}
