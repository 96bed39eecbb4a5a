/** The migrate action: bring PostgreSQL to the schema the new version needs, or block the deploy. */
import path from 'node:path';
import { z } from 'zod';
import { loadConfig, type ComponentConfig, type SlipwayConfig } from '../core/config.js';
import { cancelReason, isCancelled, onCancel } from '../core/cancel.js';
import { errorMessage, oneLine, UserError } from '../core/errors.js';
import { commonInputs, defineAction, input, type InputField, type ParsedInputs } from '../core/inputs.js';
import type { Runtime } from '../core/runtime.js';
import { notify } from '../notify/notify.js';
import type { Database } from './database.js';
import { FORMAT_NAMES, loadMigrations, type FormatChoice } from './files.js';
import { LockNotTaken } from './lock.js';
import {
  cancelledUnknownSummary,
  failedMigrationSummary,
  lockNotTakenSummary,
  notRunSummary,
  migrationSummary,
  refusedMigrationSummary,
  setNothingAppliedOutputs,
  setMigrateOutputs,
  setRefusedOutputs,
  type NotRun,
} from './report.js';
import {
  MigrationFailed,
  MigrationRefused,
  runMigrations,
  type MigrateOptions,
  type MigrationResult,
} from './runner.js';
import { maskPolicySecrets } from '../core/policy-secrets.js';
import { workspaceRoot } from './workspace.js';

/**
 * How long a cancelled run's cleanup waits for the run to report (its statement cancelled and
 * rolled back, its connections closed) before it writes what it knows: well inside the 5 s the
 * cancel machinery gives all cleanups together.
 */
const CANCEL_REPORT_MS = 2_500;

const toolInput: InputField<'' | 'builtin' | 'command'> = {
  description:
    "builtin (Slipway's runner: its own <version>_<name>.sql files, or golang-migrate, goose, dbmate, Flyway or Prisma folders) or command (the project's own tool). Empty: the policy file's, else builtin.",
  schema: z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(['', 'builtin', 'command'], { message: 'expected builtin or command' })),
};

const formatInput: InputField<'' | FormatChoice> = {
  description:
    "The migrations folder's format for the built-in runner: auto (detect), slipway, golang-migrate, goose, dbmate, flyway or prisma. Empty: the policy file's migrate.format, else auto.",
  schema: z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(['', 'auto', ...FORMAT_NAMES], { message: `expected auto, ${FORMAT_NAMES.join(', ')}` })),
};

const inputs = {
  'database-url': input.string(
    'PostgreSQL URL to migrate (a secret). Empty: the variable the policy file names (migrate.database.env), else DATABASE_URL.',
    { secret: true },
  ),
  dir: input.string("Folder of the migrations. Empty: the policy file's migrate.dir, else migrations."),
  tool: toolInput,
  format: formatInput,
  command: input.string('The migration command when tool is command, e.g. alembic upgrade head (DATABASE_URL is set).'),
  target: input.string('Version to migrate to; below the current one runs the .down.sql files. Empty: the latest.'),
  table: input.string("History table of the built-in runner. Empty: the policy file's, else slipway_migrations."),
  'lock-timeout': input.integer('Seconds to wait for another run holding the migration lock.', '300', 0),
  'out-of-order': input.boolean('Apply a new migration numbered below the last applied one.', 'false'),
  'allow-destructive': input.boolean(
    "Apply statements that destroy what the running version uses (DROP TABLE, DROP COLUMN, ALTER COLUMN TYPE, TRUNCATE). The policy file's migrate.allowDestructive: true also allows them.",
    'false',
  ),
  backup: input.boolean(
    'Take a pg_dump (custom format, owner-only file) before the first pending migration; on a runner it is also uploaded as an artifact of the run, so it outlives the job.',
    'false',
  ),
  'backup-dir': input.string(
    'Folder for the backup, checked before the lock is taken; the 5 newest backups there are kept. Empty: $RUNNER_TEMP on a runner, else the repository’s .slipway/backups (kept out of git).',
  ),
  resolve: input.string(
    'Settle a no-transaction migration that did not finish, once you have checked the database: "<version> applied" or "<version> pending". Only that is done; run again to migrate.',
  ),
  ...commonInputs,
};

/** The migrate action's parsed inputs. */
export type MigrateInputs = ParsedInputs<typeof inputs>;

export const migrate = defineAction({
  name: 'migrate',
  description:
    'Apply PostgreSQL migrations safely before a deploy: transactional, locked, checksummed, linted for changes that break the running version, with an optional backup.',
  inputs,
  outputs: {
    applied:
      'JSON list of the migrations applied (or reverted) by this run: {version, name, file, direction, transaction, durationMs}.',
    pending: 'How many migrations are not applied after the run (on a dry run: before it).',
    current: 'The highest applied version after the run (empty when none).',
    backup: 'Path of the backup taken before migrating (empty when none).',
    'backup-location':
      'Where that backup outlives the job: the URL of the run artifact holding it (empty when none was taken or it is only the local file).',
    findings: 'JSON list of lint findings: {file, line, rule, destructive, breaking, message, statement}.',
  },
  async run(parsed, rt) {
    await runMigrateAction(parsed, rt);
  },
});

/**
 * The action's work, with an optional fallback database for when no URL is given (the CLI's
 * embedded PGlite). On GitHub there is no fallback, so the URL is required.
 */
export async function runMigrateAction(
  parsed: MigrateInputs,
  rt: Runtime,
  fallback?: () => Promise<Database>,
): Promise<MigrationResult> {
  const config = await loadConfig(rt.cwd, parsed.config);
  // Before any command runs: a secret the policy names is masked even where it is printed first.
  maskPolicySecrets(config, rt);
  const options = resolveOptions(parsed, config, rt);
  let database: Database | undefined;
  if (!options.databaseUrl && fallback && options.tool !== 'command') {
    database = await fallback();
    rt.log.info(`No database-url: using the embedded database in ${database.where}.`);
  }
  // A cancelled run (SIGINT, SIGTERM) exits as soon as the cleanups are done, before its own
  // failure would reach the catch below: this cleanup waits for that report, briefly, so an
  // `if: always()` step still sees what was applied; failing that, the summary says where to look.
  let summarised = false;
  let reported: () => void = () => undefined;
  const report = new Promise<void>((resolve) => (reported = resolve));
  const reportOnCancel = onCancel(async () => {
    if (await settlesWithin(report, CANCEL_REPORT_MS)) return;
    summarised = true;
    await rt.summary(cancelledUnknownSummary(cancelReason() ?? 'cancelled'));
  });
  const summary = async (markdown: string) => {
    if (!summarised) await rt.summary(markdown);
  };
  try {
    let result: MigrationResult;
    try {
      result = await runMigrations({ ...options, database }, rt);
    } catch (err) {
      try {
        // Cancelled where the runner keeps no account (between two migrations): say where to look.
        if (!(await reportFailure(err, options, rt, summary)) && isCancelled())
          await summary(cancelledUnknownSummary(cancelReason() ?? 'cancelled'));
      } finally {
        reported();
      }
      // A cancelled run was stopped on purpose; its log says what it left.
      if (!options.dryRun && !isCancelled()) {
        // The policy's component whose settings this run took (resolveOptions found it, so this cannot throw).
        const component = migrateComponent(config, parsed.dir)?.name;
        await notify(
          config.notify,
          {
            event: 'migration-failed',
            title: component ? `Migrations of ${component} failed` : 'Migrations failed',
            text: rt.redact(oneLine(errorMessage(err))),
            failedComponent: component,
          },
          rt,
        );
      }
      throw err;
    }
    setMigrateOutputs(result, rt);
    await summary(migrationSummary(result));
    reported();
    return result;
  } finally {
    reportOnCancel();
    await database?.close();
  }
}

/** The outputs and summary of a run that did not finish, with what it knew when it stopped; false when it knew nothing to report. */
async function reportFailure(
  err: unknown,
  options: MigrateOptions,
  rt: Runtime,
  summary: (markdown: string) => Promise<void>,
): Promise<boolean> {
  // A refusal still tells the workflow what is pending and what the lint found.
  if (err instanceof MigrationRefused) {
    setRefusedOutputs(err.state, rt);
    await summary(refusedMigrationSummary(err.state, err.message));
    return true;
  }
  // The migrations before the failing one stay applied (each committed on its own): say so,
  // with the one that failed and those that never ran.
  if (err instanceof MigrationFailed) {
    setMigrateOutputs(err.result, rt);
    await summary(failedMigrationSummary(err.result, await notRunOf(err, options, rt), err.message, isCancelled()));
    return true;
  }
  // Timed out or cancelled waiting for the lock: nothing applied, the history never read.
  if (err instanceof LockNotTaken) {
    setNothingAppliedOutputs(rt);
    await summary(lockNotTakenSummary(err.message));
    return true;
  }
  // Any other refusal of the built-in runner comes before its first migration (those after it
  // are MigrationFailed), so an `if: always()` step still reads that nothing was applied. The
  // project's own tool may have applied some before failing: there, nothing is claimed.
  if (err instanceof UserError && options.tool !== 'command' && !isCancelled()) {
    setNothingAppliedOutputs(rt);
    await summary(notRunSummary('refused', err.message));
    return true;
  }
  return false;
}

/**
 * The failed migration and those after it that did not run. The runner's result counts them
 * (`pending`) but lists only what ran, so the folder is read again (it was read moments ago,
 * so it reads the same): a migration neither applied before, nor applied by this run, nor
 * beyond the target, nor the failed one, is what the plan had left. A down run lists only the
 * failed revert; the migrations it did not reach are still applied, and shown so.
 */
async function notRunOf(err: MigrationFailed, options: MigrateOptions, rt: Runtime): Promise<NotRun> {
  const failed = err.location?.file ?? '';
  const result = err.result;
  try {
    const dir = path.resolve(rt.cwd, options.dir || 'migrations');
    const rel = (abs: string) => path.relative(rt.cwd, abs).split(path.sep).join('/') || '.';
    const { files } = await loadMigrations(dir, rel, { root: await workspaceRoot(rt.cwd), format: options.format });
    // Its row says it failed: not also "applied before" (a failed revert is still applied).
    if (result.direction === 'down')
      return {
        failed,
        pending: [],
        failedVersion: files.find((f) => f.file === failed || f.down?.file === failed)?.version,
      };
    const before = new Set(result.previouslyApplied.map((r) => r.version));
    const accounted = new Set([failed, ...result.applied.map((a) => a.file), ...result.remaining.map((r) => r.file)]);
    return {
      failed,
      pending: files.filter((f) => !before.has(f.version) && !accounted.has(f.file)).map((f) => f.file),
    };
  } catch {
    // The summary is best effort: the outputs already say how many are pending.
    return { failed, pending: [] };
  }
}

/** True when `p` settles within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  const settled = await Promise.race([
    p.then(
      () => true as const,
      () => true as const,
    ),
    late,
  ]);
  clearTimeout(timer);
  return settled;
}

/** Inputs first, then the policy file's one `migrate:` component, then the defaults. */
function resolveOptions(parsed: MigrateInputs, config: SlipwayConfig, rt: Runtime): MigrateOptions {
  const fromConfig = migrateComponent(config, parsed.dir);
  // The same default as deploy's migrations step, so one policy file means one database to
  // both; without a policy file too, as `psql`-style tools and the other actions read it.
  const envName = fromConfig?.migrate?.database?.env ?? 'DATABASE_URL';
  const databaseUrl = parsed.databaseUrl || (rt.env[envName] ?? '');
  rt.mask(databaseUrl);
  return {
    dir: parsed.dir || fromConfig?.migrate?.dir || 'migrations',
    databaseUrl: databaseUrl || undefined,
    databaseFrom: parsed.databaseUrl
      ? undefined
      : `the variable ${envName} (${fromConfig?.migrate?.database?.env ? 'migrate.database.env' : fromConfig ? 'the default of migrate.database.env' : 'read when the input is empty'})`,
    tool: parsed.tool || fromConfig?.migrate?.tool || 'builtin',
    format: parsed.format || fromConfig?.migrate?.format || 'auto',
    command: parsed.command || fromConfig?.migrate?.command,
    target: parsed.target,
    table: parsed.table || fromConfig?.migrate?.table,
    lockTimeoutMs: parsed.lockTimeout * 1000,
    outOfOrder: parsed.outOfOrder,
    // Either one enables it: the input for a one-off run, the policy file for a reviewed change.
    allowDestructive: parsed.allowDestructive || fromConfig?.migrate?.allowDestructive === true,
    backup: parsed.backup,
    backupDir: parsed.backupDir,
    dryRun: parsed.dryRun,
    resolve: parsed.resolve,
  };
}

/** The component whose settings apply: the one with `migrate:` (matching `dir` when given). */
function migrateComponent(config: SlipwayConfig, dir: string): ComponentConfig | null {
  const all = Object.values(config.components).filter((c) => c.migrate);
  const norm = (d: string) => d.replace(/^\.\//, '').replace(/\/+$/, '');
  if (dir) return all.find((c) => norm(c.migrate!.dir) === norm(dir)) ?? null;
  if (all.length > 1)
    throw new UserError(
      `input "dir": ${config.file} has ${all.length} components with migrate: (${all.map((c) => c.name).join(', ')}); set dir to the folder of the one to migrate`,
    );
  return all[0] ?? null;
}
