/**
 * The migrations domain: bring a database to the schema a version needs, or stop the
 * deploy. Used by the migrate action, by deploy for components with `migrate:`, and by the
 * CLI (with an embedded database).
 */
import os from 'node:os';
import path from 'node:path';
import { CancelledError, onCancel } from '../core/cancel.js';
import { errorMessage, UserError } from '../core/errors.js';
import { duration } from '../core/markdown.js';
import type { Runtime } from '../core/runtime.js';
import { applyStep } from './apply.js';
import { backupDirOf, backupLabel, prepareBackupDir, takeBackup } from './backup.js';
import { runCommandTool } from './command-tool.js';
import type { Database, DbSession } from './database.js';
import { readForeignHistory, recordAdoption, type Adoption } from './adopt.js';
import { loadMigrations, statementsOf, type FormatChoice, type MigrationFile } from './files.js';
import { flywayKey, flywayParts, flywayVersionOfKey } from './formats/flyway.js';
import type { MigrationFormat } from './formats/types.js';
import { checkTableName, ensureHistory, readHistory, type AppliedRow } from './history.js';
import {
  clearSql,
  invalidIndexes,
  parseResolve,
  readUnfinished,
  resolveAppliedSql,
  resolveRevertedSql,
  unfinishedRefusal,
  type UnfinishedRow,
} from './unfinished.js';
import { lintMigrations, type Finding } from './lint.js';
import { acquireLock, DEFAULT_LOCK_TIMEOUT_MS, qualifiedTable } from './lock.js';
import { openServerDatabase } from './pg-database.js';
import { changesIndexConcurrently, checkDrift, parseTarget, planRun, type Plan } from './plan.js';
import type { SqlStatement } from './sql-split.js';
import { workspaceRoot } from './workspace.js';

/** What to migrate and how. */
export interface MigrateOptions {
  /** The migrations folder, relative to the runtime's cwd (or absolute, inside it). */
  dir: string;
  /** Where dir came from, as errors name it (default: input "dir"). */
  dirFrom?: string;
  /** The folder's format (default: detected from the folder). */
  format?: FormatChoice;
  /** A PostgreSQL URL (a secret). */
  databaseUrl?: string;
  /** Where databaseUrl came from, as errors name it (default: input "database-url"). */
  databaseFrom?: string;
  /** An already open database (the embedded one); used instead of databaseUrl. */
  database?: Database;
  tool?: 'builtin' | 'command';
  /** The project's own migration command when tool is `command`. */
  command?: string;
  /** A version to go up or down to; empty or `latest`: every pending migration. */
  target?: string;
  /** History table (default slipway_migrations). */
  table?: string;
  /** How long to wait for another run's lock (default 300 s). */
  lockTimeoutMs?: number;
  /** How long one query on the lock connection may go unanswered (default 30 s). */
  lockQueryTimeoutMs?: number;
  outOfOrder?: boolean;
  allowDestructive?: boolean;
  /** How the caller lets a destructive migration through, for the refusal (default: the action's input or the policy key). */
  allowDestructiveHow?: string;
  backup?: boolean;
  /** Where backups go (default $RUNNER_TEMP, else the system's temporary folder). */
  backupDir?: string;
  dryRun?: boolean;
  /** `<version> applied|pending`: settle a no-transaction migration that did not finish, and stop. */
  resolve?: string;
}

/** One migration this run applied or reverted (or would, on a dry run). */
interface AppliedMigration {
  version: string;
  name: string;
  file: string;
  direction: 'up' | 'down';
  transaction: boolean;
  durationMs: number;
}

/** What a run did. */
export interface MigrationResult {
  tool: 'builtin' | 'command';
  /** The database, without credentials: host:port/name, or the embedded folder. */
  database: string;
  direction: 'up' | 'down' | 'none';
  dryRun: boolean;
  /** Applied (or reverted) by this run; on a dry run, what would be. */
  applied: AppliedMigration[];
  /** Migrations still not applied after the run (on a dry run: before it). */
  pending: number;
  /** The highest applied version after the run ('' when none). */
  current: string;
  /** Path of the backup taken before the first change ('' when none). */
  backup: string;
  /** Where that backup is kept beyond the job, e.g. the run's artifact URL ('' when it is only the local file). */
  backupLocation: string;
  /** Statements of this run's migrations that break the running version. */
  findings: Finding[];
  /** True when a destructive finding was applied: the previous version cannot run on this schema. */
  destructiveApplied: boolean;
  /** Migrations applied before this run. */
  previouslyApplied: AppliedRow[];
  /** Not applied and beyond the target. */
  remaining: { version: string; file: string }[];
}

/** What a refused run knew before it refused: enough for the action's findings, pending and current outputs. */
export type RefusedState = Pick<MigrationResult, 'findings' | 'pending' | 'current'>;

/** A run refused before it applied anything (drift, order, destructive findings); carries what it knew. */
export class MigrationRefused extends UserError {
  constructor(
    message: string,
    location: ConstructorParameters<typeof UserError>[1],
    readonly state: RefusedState,
  ) {
    super(message, location);
  }
}

/**
 * A migration failed after the ones before it in the run were applied (each committed on its
 * own): carries the result so far, so the outputs say what was applied, what is pending and
 * where the database stands.
 */
export class MigrationFailed extends UserError {
  constructor(
    message: string,
    location: ConstructorParameters<typeof UserError>[1],
    readonly result: MigrationResult,
  ) {
    super(message, location);
  }
}

/** Run the migrations; a UserError explains any refusal or failure (nothing half-applied). */
export async function runMigrations(options: MigrateOptions, rt: Runtime): Promise<MigrationResult> {
  rt.mask(options.databaseUrl);
  const tool = options.tool ?? 'builtin';
  const table = checkTableName(options.table ?? '');
  if (!options.database && !options.databaseUrl?.trim())
    throw new UserError(
      options.databaseFrom
        ? `input "database-url" is empty and ${options.databaseFrom} is not set; expected the PostgreSQL URL to migrate, from a secret`
        : 'input "database-url": required (the PostgreSQL URL to migrate, from a secret)',
    );
  // A malformed resolve is refused before anything is opened or created.
  if (parseResolve(options.resolve ?? '') && tool === 'command')
    throw new UserError(
      'input "resolve": only for the built-in runner (with tool: command, your tool keeps its own state)',
    );
  if (tool === 'command') return runCommandTool(options, table, rt);

  const dir = path.resolve(rt.cwd, options.dir || 'migrations');
  const rel = (abs: string) => path.relative(rt.cwd, abs).split(path.sep).join('/') || '.';
  const { format, files } = await loadMigrations(dir, rel, {
    root: await workspaceRoot(rt.cwd),
    format: options.format,
    dirFrom: options.dirFrom,
  });
  const target = parseTarget(format.name === 'flyway' ? flywayTarget(options.target) : options.target);

  const db =
    options.database ??
    (await openServerDatabase(options.databaseUrl!, {
      onRetry: (m) => rt.log.info(m),
      from: options.databaseFrom,
    }));
  try {
    const backupDir = backupDirOf(options.backupDir, rt);
    return await migrateWith(db, { options, table, files, format, target, dirShown: rel(dir), backupDir }, rt);
  } finally {
    if (!options.database) await db.close();
  }
}

async function migrateWith(
  db: Database,
  ctx: {
    options: MigrateOptions;
    table: string;
    files: MigrationFile[];
    format: MigrationFormat;
    target: bigint | null;
    dirShown: string;
    backupDir: string;
  },
  rt: Runtime,
): Promise<MigrationResult> {
  const { options, files, format } = ctx;
  let table = ctx.table;
  // A Flyway version's key means nothing to a reader: show the version as written.
  const texts = new Map(files.map((f) => [f.version, f.versionText]));
  const shown = (v: bigint) => (format.name === 'flyway' ? (texts.get(v) ?? flywayVersionOfKey(v)) : v.toString());
  const by = runIdentity(rt.env);
  // Checked before the lock: a bad folder must fail at once, not with the lock held.
  if (options.backup && !options.dryRun)
    await prepareBackupDir(ctx.backupDir, options.backupDir?.trim() || ctx.backupDir);
  const lock = options.dryRun
    ? null
    : await acquireLock(db, {
        table,
        timeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
        queryTimeoutMs: options.lockQueryTimeoutMs,
        log: (m) => rt.log.info(m),
      });
  let session: DbSession | null = null;
  try {
    session = await db.connect(`(${by})`);
    // Named by its schema once: a migration's SET search_path must not move the history table.
    table = await qualifiedTable(session, table);
    // Read under the lock: a run that waited sees what the other one applied.
    if (!options.dryRun) await ensureHistory(session, table);
    let history = await readHistory(session, table);
    if (!history.length) history = await adopt(session, { table, format, files, dryRun: options.dryRun, by }, rt);
    history = acceptOldRecords(files, history, format);
    const current = history.length ? shown(history[history.length - 1].version) : '';
    const unfinished = await readUnfinished(session, table);
    const resolution = parseResolve(options.resolve ?? '');
    if (resolution && options.dryRun)
      throw new UserError('input "resolve": not with dry-run (resolving writes the history table)');
    if (resolution)
      return await resolveUnfinished(session, { table, files, unfinished, resolution, by, db, history, shown }, rt);
    if (unfinished.length) {
      const u = unfinished[0];
      const file = files.find((f) => f.version === u.version);
      const part = u.direction === 'down' ? file?.down : file;
      // Named only when that part builds or drops an index concurrently: then an invalid index is likely its doing.
      const invalid = part && buildsConcurrently(file!, part) ? await invalidIndexes(session) : [];
      throw refusedBeforePlan(
        unfinishedRefusal(u, file?.versionText ?? shown(u.version), part?.sql, invalid),
        files,
        history,
        current,
      );
    }
    let plan: Plan;
    try {
      checkMissing(files, history, format, ctx.dirShown, shown);
      checkDrift(files, history, ctx.dirShown);
      plan = planRun(files, history, { target: ctx.target, outOfOrder: options.outOfOrder ?? false });
    } catch (err) {
      if (err instanceof UserError) throw refusedBeforePlan(adviseFor(format, err), files, history, current);
      throw err;
    }
    useStatedBoundaries(plan);
    const findings = lintMigrations(
      plan.steps.map((s) => ({
        file: s.file,
        statements: s.statements,
        noTransactionAdvice: format.noTransactionAdvice,
      })),
    );
    // A dry run stops nothing, so its findings are warnings whatever they would do to a real run.
    reportFindings(findings, (options.allowDestructive ?? false) || (options.dryRun ?? false), rt);
    // What is not applied once the first `done` steps ran: a reverted migration is pending again.
    const pendingAfter = (done: number) =>
      plan.remaining.length + (plan.direction === 'up' ? plan.steps.length - done : done);
    const pending = pendingAfter(0);

    const result: MigrationResult = {
      tool: 'builtin',
      database: db.where,
      direction: plan.direction,
      dryRun: options.dryRun ?? false,
      applied: [],
      pending: options.dryRun ? pending : pendingAfter(plan.steps.length),
      current,
      backup: '',
      backupLocation: '',
      findings,
      destructiveApplied: false,
      previouslyApplied: history,
      remaining: plan.remaining.map((f) => ({ version: shown(f.version), file: f.file })),
    };
    const destructive = findings.filter((f) => f.destructive);
    if (destructive.length && !options.allowDestructive && !options.dryRun)
      throw destructiveError(destructive, { findings, pending, current }, options.allowDestructiveHow);

    if (options.dryRun) {
      result.applied = plan.steps.map((s) => appliedOf(s, 0));
      logPlan(plan, findings, rt, destructive.length > 0 && !options.allowDestructive, options.allowDestructiveHow);
      return result;
    }
    if (!plan.steps.length) {
      rt.log.info(
        `Nothing to migrate: ${history.length} migration${history.length === 1 ? '' : 's'} applied, current version ${result.current || '(none)'}${plan.remaining.length ? `, ${plan.remaining.length} beyond the target` : ''}.`,
      );
      return result;
    }
    if (options.backup) {
      const first = plan.steps[0].migration;
      const label = backupLabel(`${plan.direction === 'down' ? 'revert-' : ''}${first.versionText}_${first.name}`);
      const backup = await takeBackup(db, ctx.backupDir, label, rt);
      result.backup = backup.file;
      result.backupLocation = backup.kept;
    }

    await rt.log.group(
      `${plan.direction === 'down' ? 'Reverting' : 'Applying'} ${plan.steps.length} migration${plan.steps.length === 1 ? '' : 's'} on ${db.where}`,
      async () => {
        for (const step of plan.steps) {
          if (step.noTransaction)
            rt.log.info(
              `${step.file} runs outside a transaction (${format.noTransactionHint}): a failure can leave part of it applied.`,
            );
          let ms: number;
          const applying = applyStep(session!, step, table, by);
          // A cancelled run: the server cancels the statement, and the run ends (letting go of
          // the lock) only once it is rolled back, so no other run starts beside it.
          const stopOnCancel = onCancel(async () => {
            await session!.cancel?.();
            await applying.then(
              () => undefined,
              (err: unknown) => rt.log.warning(errorMessage(err)),
            );
          }, 'stop');
          try {
            ms = await applying;
          } catch (err) {
            // A cancel between two migrations refuses to start the next one: still a failure
            // that carries what the run applied, so its outputs and summary say so.
            if (!(err instanceof UserError) && !(err instanceof CancelledError)) throw err;
            result.current = currentAfter(history, plan, result.applied.length, shown);
            result.pending = pendingAfter(result.applied.length);
            throw new MigrationFailed(err.message, err instanceof UserError ? err.location : undefined, result);
          } finally {
            stopOnCancel();
          }
          result.applied.push(appliedOf(step, ms));
          rt.log.info(`${step.direction === 'down' ? '↓ reverted' : '✓ applied'} ${step.file} (${duration(ms)})`);
          await session!.reset();
        }
      },
    );
    result.destructiveApplied = destructive.length > 0;
    result.current = currentAfter(history, plan, result.applied.length, shown);
    rt.log.info(`Schema at version ${result.current || '(none)'}.`);
    return result;
  } finally {
    await session?.close();
    await lock?.release();
  }
}

/** The highest version applied once the plan's first `done` steps ran on top of `history`. */
function currentAfter(history: AppliedRow[], plan: Plan, done: number, shown: (v: bigint) => string): string {
  let versions = history.map((r) => r.version);
  const ran = plan.steps.slice(0, done).map((s) => s.migration.version);
  if (plan.direction === 'down') {
    const reverted = new Set(ran);
    versions = versions.filter((v) => !reverted.has(v));
  } else versions = [...versions, ...ran];
  return versions.length ? shown(versions.reduce((a, b) => (a > b ? a : b))) : '';
}

/**
 * First run on a database another tool migrated: take that tool's history as applied, and
 * record it (on a dry run, only in memory). Returns the history to plan from.
 */
async function adopt(
  session: DbSession,
  ctx: { table: string; format: MigrationFormat; files: MigrationFile[]; dryRun?: boolean; by: string },
  rt: Runtime,
): Promise<AppliedRow[]> {
  const adoption = await readForeignHistory(session, ctx.format.name, ctx.files);
  if (!adoption?.applied.length) return [];
  const n = adoption.applied.length;
  rt.log.info(
    `${ctx.dryRun ? 'Would adopt' : 'Adopting'} ${n} migration${n === 1 ? '' : 's'} that ${adoption.tool} applied (${adoption.table}): recorded in ${ctx.table} with their checksums, never run again.`,
  );
  if (!ctx.dryRun) {
    await recordAdoption(session, ctx.table, adoption);
    return readHistory(session, ctx.table);
  }
  return adoptedRows(adoption);
}

function adoptedRows(adoption: Adoption): AppliedRow[] {
  return adoption.applied
    .map(({ file, appliedAt }) => ({
      version: file.version,
      name: file.name,
      checksum: file.checksum,
      appliedAt: appliedAt ?? '',
      durationMs: 0,
      appliedBy: `adopted from ${adoption.table}`,
    }))
    .sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
}

/**
 * Rows written before this version still match their files: checksums were taken over the
 * raw bytes (a row recorded that way, or over the same text with CRLF, is not drift), and
 * golang-migrate files were named with their `.up` (`create_users.up`).
 */
function acceptOldRecords(files: MigrationFile[], history: AppliedRow[], format: MigrationFormat): AppliedRow[] {
  const byVersion = new Map(files.map((f) => [f.version, f]));
  return history.map((row) => {
    const f = byVersion.get(row.version);
    if (!f) return row;
    let out = row;
    if (row.checksum !== f.checksum && f.acceptedChecksums.includes(row.checksum))
      out = { ...out, checksum: f.checksum };
    if (format.name === 'golang-migrate' && row.name === `${f.name}.up`) out = { ...out, name: f.name };
    return out;
  });
}

/**
 * An applied migration whose file is gone, named as the folder's format names it (the
 * planner's message spells a file in Slipway's own layout).
 */
function checkMissing(
  files: MigrationFile[],
  history: AppliedRow[],
  format: MigrationFormat,
  dirShown: string,
  shown: (v: bigint) => string,
): void {
  if (format.name === 'slipway') return;
  const versions = new Set(files.map((f) => f.version));
  const gone = history.find((r) => !versions.has(r.version));
  if (gone)
    throw new UserError(
      `migration drift: the ${format.name} migration ${shown(gone.version)} (${gone.name}) was applied ${gone.appliedAt.slice(0, 19)} by ${gone.appliedBy} but is no longer in ${dirShown}; restore its file (applied migrations are never removed)`,
    );
}

/** A file that states its statement boundaries (goose StatementBegin/End) runs and is linted by them. */
function useStatedBoundaries(plan: Plan): void {
  for (const step of plan.steps) {
    const stated = step.direction === 'up' ? step.migration.statements : step.migration.down?.statements;
    if (stated) step.statements = stated;
  }
}

/** The planner's advice names Slipway's own marker; a file of another format says it its own way. */
function adviseFor(format: MigrationFormat, err: UserError): UserError {
  if (format.name === 'slipway' || !err.message.includes('-- slipway:no-transaction')) return err;
  return new UserError(
    err.message
      .replace(/start the file with -- slipway:no-transaction/g, format.noTransactionAdvice)
      .replace(/-- slipway:no-transaction/g, format.noTransactionHint),
    err.location,
  );
}

/** A Flyway `target` (1.1, 2_1) as the key its history rows carry; anything else as given. */
function flywayTarget(target: string | undefined): string | undefined {
  const t = (target ?? '').trim();
  const parts = flywayParts(t);
  const key = parts && flywayKey(parts);
  return key === null || key === undefined ? target : key.toString();
}

function appliedOf(step: Plan['steps'][number], ms: number): AppliedMigration {
  return {
    version: step.migration.versionText,
    name: step.migration.name,
    file: step.file,
    direction: step.direction,
    transaction: !step.noTransaction,
    durationMs: Math.round(ms),
  };
}

/** Each finding as an annotation on its file and line; destructive ones as errors when they will stop the run. */
function reportFindings(findings: Finding[], allowDestructive: boolean, rt: Runtime): void {
  for (const f of findings) {
    const annotation = { file: f.file, line: f.line, title: `migration lint: ${f.rule}` };
    const text = `${f.file}:${f.line}: ${f.message}`;
    if (f.destructive && !allowDestructive) rt.log.error(text, annotation);
    else rt.log.warning(text, annotation);
  }
}

/** How to let a reviewed destructive migration through, in every message that refuses one. */
const ALLOW_DESTRUCTIVE_HOW =
  'set the input allow-destructive: true, or migrate.allowDestructive: true on the component in the policy file';

/** The same advice for deploy and its plan, which have no allow-destructive input: the policy file is the one way through. */
export function allowDestructiveInPolicy(component: string): string {
  return `set migrate.allowDestructive: true on components.${component} in the policy file`;
}

/** The one wording of a destructive-migration refusal, for the runner and for a plan that predicts it. */
export function destructiveRefusal(
  destructive: readonly { file?: string; line?: number; rule?: string }[],
  how = ALLOW_DESTRUCTIVE_HOW,
  tense: 'was' | 'would be' = 'was',
): string {
  const first = destructive[0];
  const rules = [...new Set(destructive.map((f) => f.rule ?? ''))].filter(Boolean).join(', ');
  return `${first.file ?? ''}:${first.line ?? 0}: ${destructive.length} destructive statement${destructive.length === 1 ? '' : 's'} would break the running version (${rules}); nothing ${tense} applied. Once no deployed version depends on what they remove, ${how}`;
}

function destructiveError(destructive: Finding[], state: RefusedState, how = ALLOW_DESTRUCTIVE_HOW): MigrationRefused {
  const first = destructive[0];
  return new MigrationRefused(destructiveRefusal(destructive, how), { file: first.file, line: first.line }, state);
}

/**
 * Drift or order stopped the run before a plan existed: the outputs still say where the
 * database is (current), what is not applied (pending) and what those files would do (findings).
 */
function refusedBeforePlan(
  err: UserError,
  files: MigrationFile[],
  history: AppliedRow[],
  current: string,
): MigrationRefused {
  const applied = new Set(history.map((r) => r.version));
  const notApplied = files.filter((f) => !applied.has(f.version));
  let findings: Finding[] = [];
  try {
    findings = lintMigrations(notApplied.map((f) => ({ file: f.file, statements: statementsOf(f.file, f.sql) })));
  } catch {
    // A file the lexer cannot finish has no findings to give; the refusal is what matters.
  }
  return new MigrationRefused(err.message, err.location, { findings, pending: notApplied.length, current });
}

function logPlan(plan: Plan, findings: Finding[], rt: Runtime, wouldStop: boolean, how = ALLOW_DESTRUCTIVE_HOW): void {
  if (!plan.steps.length) {
    rt.log.info('Dry run: nothing to migrate.');
    return;
  }
  rt.log.info(
    `Dry run: ${plan.steps.length} migration${plan.steps.length === 1 ? '' : 's'} would ${plan.direction === 'down' ? 'be reverted' : 'run'}:`,
  );
  for (const s of plan.steps) rt.log.info(`  ${s.file}${s.noTransaction ? ' (outside a transaction)' : ''}`);
  if (!findings.length) {
    rt.log.info('Dry run: no lint findings.');
    return;
  }
  rt.log.info(`Dry run: ${findings.length} lint finding${findings.length === 1 ? '' : 's'}:`);
  for (const f of findings)
    rt.log.info(`  ${f.file}:${f.line} ${f.rule}${f.destructive ? ' (destructive)' : ''}: ${f.message}`);
  if (wouldStop)
    rt.log.warning(`Dry run: the destructive findings above would stop a real run; to let them through, ${how}.`);
}

/** Who applies: the workflow run, else user@host. */
function runIdentity(env: NodeJS.ProcessEnv): string {
  if (env.GITHUB_RUN_ID) return `run ${env.GITHUB_RUN_ID}${env.GITHUB_RUN_ATTEMPT ? `/${env.GITHUB_RUN_ATTEMPT}` : ''}`;
  let user = 'someone';
  try {
    user = os.userInfo().username;
  } catch {
    /* no passwd entry in some containers */
  }
  return `${user}@${os.hostname()}`;
}

/** True when a migration's part (its up file, or its down) has a statement that changes an index concurrently. */
function buildsConcurrently(file: MigrationFile, part: { sql: string; statements?: SqlStatement[] }): boolean {
  try {
    return (part.statements ?? statementsOf(file.file, part.sql)).some(changesIndexConcurrently);
  } catch {
    return false;
  }
}

/**
 * Settle an unfinished migration, and stop. Up: applied records it (with the file's checksum),
 * pending removes the mark. Down (its history row is still there): applied removes the mark
 * and keeps the row, pending removes both, as if the down had finished.
 */
async function resolveUnfinished(
  session: DbSession,
  ctx: {
    table: string;
    files: MigrationFile[];
    unfinished: UnfinishedRow[];
    resolution: { version: string; as: 'applied' | 'pending' };
    by: string;
    db: Database;
    history: AppliedRow[];
    shown: (v: bigint) => string;
  },
  rt: Runtime,
): Promise<MigrationResult> {
  const { resolution, table } = ctx;
  const file = ctx.files.find((f) => f.versionText === resolution.version);
  const u = ctx.unfinished.find((x) =>
    file ? x.version === file.version : x.version.toString() === resolution.version,
  );
  if (!u)
    throw new UserError(
      `input "resolve": version ${resolution.version} is not an unfinished migration (${ctx.unfinished.length ? `unfinished: ${ctx.unfinished.map((x) => x.file).join(', ')}` : 'none is'})`,
    );
  const applied = new Set(ctx.history.map((r) => r.version));
  if (u.direction === 'down') {
    if (resolution.as === 'applied') {
      await session.exec(clearSql(table, u.version));
      rt.log.info(
        `Resolved ${u.file}: its down migration is recorded as not run, so the migration stays applied; a later step down runs the down from its first statement.`,
      );
    } else {
      await session.exec(resolveRevertedSql(table, u.version));
      applied.delete(u.version);
      rt.log.info(`Resolved ${u.file}: recorded as reverted; the migration is pending again.`);
    }
  } else if (resolution.as === 'applied') {
    if (!file)
      throw new UserError(
        `input "resolve": ${u.file} is not in the migrations folder, so its checksum cannot be recorded`,
      );
    await session.exec(resolveAppliedSql(table, u, file.checksum, ctx.by));
    applied.add(u.version);
    rt.log.info(`Resolved ${u.file}: recorded as applied. Run migrate again for what is pending.`);
    // Recorded as the operator says; but an index a concurrent build left invalid enforces
    // nothing (a unique one lets duplicates in), so "applied" is said not to be the whole story.
    const invalid = await invalidIndexes(session);
    if (invalid.length)
      rt.log.warning(
        `${u.file} is recorded as applied, but ${invalid.length === 1 ? 'an index is' : 'indexes are'} still invalid: ${invalid.join(', ')} (enforces nothing until rebuilt: DROP INDEX CONCURRENTLY, then create it again in a new migration)`,
      );
  } else {
    await session.exec(clearSql(table, u.version));
    rt.log.info(`Resolved ${u.file}: pending again; the next run applies it from its first statement.`);
  }
  // As after any run: what is not applied now, and the highest version that is.
  const top = [...applied].reduce<bigint | null>((a, b) => (a === null || b > a ? b : a), null);
  return {
    tool: 'builtin',
    database: ctx.db.where,
    direction: 'none',
    dryRun: false,
    applied: [],
    pending: ctx.files.filter((f) => !applied.has(f.version)).length,
    current: top === null ? '' : ctx.shown(top),
    backup: '',
    backupLocation: '',
    findings: [],
    destructiveApplied: false,
    // The history as the resolve left it: the summary lists what is applied now.
    previouslyApplied: await readHistory(session, table),
    remaining: [],
  };
}
