/**
 * The migrate action as the CLI and the demo run it: without database-url, migrations go to
 * an embedded PGlite database in `.slipway/db`. PGlite is imported here, dynamically, and
 * nothing on an action bundle's path imports this module.
 */
import path from 'node:path';
import type { Runtime } from '../core/runtime.js';
import type { Database } from './database.js';
import { runMigrateAction, type MigrateInputs } from './migrate.js';

/** Where the embedded database lives, relative to the repository. */
export const EMBEDDED_FOLDER = '.slipway/db';

/** Open the embedded database in `folder` (PGlite, loaded on first use). */
export async function openEmbeddedDatabase(folder: string): Promise<Database> {
  const { openPGliteFolder: open } = await import('./pglite-database.js');
  return open(folder);
}

/** Run the migrate action with the embedded database as the default; the CLI's local migrate (LOCAL_RUNNERS in src/cli/local-actions.ts). */
export async function migrateLocally(inputs: Record<string, unknown>, rt: Runtime): Promise<void> {
  await runMigrateAction(inputs as MigrateInputs, rt, () =>
    openEmbeddedDatabase(path.resolve(rt.cwd, rt.env.SLIPWAY_EMBEDDED_DB || EMBEDDED_FOLDER)),
  );
}
