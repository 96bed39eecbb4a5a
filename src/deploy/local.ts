/**
 * deploy as the CLI and the demo run it: the record is the ledger in `.slipway/`, and a
 * migrations step without its database URL migrates the embedded PGlite database (loaded
 * only here, so it stays out of the action bundle).
 */
import path from 'node:path';
import type { Runtime } from '../core/runtime.js';
import { EMBEDDED_FOLDER, openEmbeddedDatabase } from '../migrations/local.js';
import { runDeploy } from './deploy.js';
import type { DeployInputs } from './inputs.js';
import { migrationsStep } from './migrate-step.js';
import { FileLedger } from './record/file-ledger.js';

/** Run deploy with the file ledger and the embedded database; the CLI's local deploy (LOCAL_RUNNERS in src/cli/local-actions.ts). */
export async function deployLocally(inputs: Record<string, unknown>, rt: Runtime): Promise<void> {
  await runDeploy({
    inputs: inputs as DeployInputs,
    record: new FileLedger(rt.cwd),
    runtime: rt,
    migrations: migrationsStep({
      embedded: () => openEmbeddedDatabase(path.resolve(rt.cwd, rt.env.SLIPWAY_EMBEDDED_DB || EMBEDDED_FOLDER)),
    }),
  });
}
