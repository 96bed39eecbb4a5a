/**
 * What a run will do, decided before anything is applied: drift between the history and
 * the files, the direction (up to the latest or a target, or down to a target), the
 * out-of-order rule, and statements that cannot run the way the file asks.
 */
import { UserError } from '../core/errors.js';
import type { MigrationFile } from './files.js';
import { statementsOf } from './files.js';
import type { AppliedRow } from './history.js';
import { NO_TRANSACTION_ADVICE, shownStatement } from './advice.js';
import { nodeOf, SqlSyntaxError, type SqlStatement } from './sql-split.js';

/** One migration to run, in order. */
export interface PlannedMigration {
  migration: MigrationFile;
  direction: 'up' | 'down';
  /** The file that runs: the migration, or its .down.sql. */
  file: string;
  sql: string;
  noTransaction: boolean;
  statements: SqlStatement[];
}

/** The run's plan. */
export interface Plan {
  direction: 'up' | 'down' | 'none';
  steps: PlannedMigration[];
  /** Migrations not applied and not in this plan (above the target). */
  remaining: MigrationFile[];
}

/** Fail on an applied migration whose file changed or disappeared, naming the file. */
export function checkDrift(files: MigrationFile[], history: AppliedRow[], dirShown: string): void {
  const byVersion = new Map(files.map((f) => [f.version, f]));
  for (const row of history) {
    const f = byVersion.get(row.version);
    const when = `applied ${row.appliedAt.slice(0, 19)} by ${row.appliedBy}`;
    if (!f)
      throw new UserError(
        `migration drift: ${dirShown}/${row.version}_${row.name}.sql was ${when} but is no longer in ${dirShown}; restore it (applied migrations are never removed)`,
      );
    if (f.checksum !== row.checksum || f.name !== row.name)
      throw new UserError(
        `migration drift: ${f.file} changed after it was ${when} (checksum ${f.checksum.slice(0, 12)}, recorded ${row.checksum.slice(0, 12)}${f.name !== row.name ? `, recorded name ${row.name}` : ''}); revert the edit and add a new migration instead`,
        { file: f.file, line: 1 },
      );
  }
}

/** The `target` input as a version, or null for the latest. */
export function parseTarget(target: string | undefined): bigint | null {
  const t = (target ?? '').trim();
  if (!t || t.toLowerCase() === 'latest') return null;
  if (!/^\d+$/.test(t))
    throw new UserError(
      `input "target": expected a migration version (a number such as 3 or 20250101120000) or latest, got ${JSON.stringify(t)}`,
    );
  return BigInt(t);
}

/** Decide the steps; throws on out-of-order pending migrations and missing down files. */
export function planRun(
  files: MigrationFile[],
  history: AppliedRow[],
  options: { target: bigint | null; outOfOrder: boolean },
): Plan {
  const applied = new Set(history.map((r) => r.version));
  const current = history.length ? history[history.length - 1].version : 0n;
  const { target } = options;

  if (target !== null && target < current) {
    const byVersion = new Map(files.map((f) => [f.version, f]));
    const revert = history.filter((r) => r.version > target).reverse();
    const steps = revert.map((r) => {
      const m = byVersion.get(r.version)!;
      if (!m.down)
        throw new UserError(
          `input "target": going down to ${target} needs ${m.file.replace(/\.sql$/, '.down.sql')}, which does not exist`,
          { file: m.file },
        );
      return step(m, 'down', m.down.file, m.down.sql, m.down.noTransaction);
    });
    return { direction: 'down', steps, remaining: files.filter((f) => !applied.has(f.version)) };
  }

  const pending = files.filter((f) => !applied.has(f.version));
  const inPlan = pending.filter((f) => target === null || f.version <= target);
  const early = inPlan.filter((f) => f.version < current);
  if (early.length && !options.outOfOrder) {
    const shown = early.slice(0, 3).map((f) => f.file);
    throw new UserError(
      `${shown.join(', ')}${early.length > 3 ? ` and ${early.length - 3} more` : ''}: numbered below the last applied migration (${current}); renumber ${early.length === 1 ? 'it' : 'them'} above it, or set out-of-order: true`,
      { file: early[0].file },
    );
  }
  return {
    direction: inPlan.length ? 'up' : 'none',
    steps: inPlan.map((m) => step(m, 'up', m.file, m.sql, m.noTransaction)),
    remaining: pending.filter((f) => !inPlan.includes(f)),
  };
}

function step(
  m: MigrationFile,
  direction: 'up' | 'down',
  file: string,
  sql: string,
  noTransaction: boolean,
): PlannedMigration {
  let statements: SqlStatement[];
  try {
    statements = statementsOf(file, sql);
  } catch (err) {
    if (err instanceof SqlSyntaxError) throw err.inFile(file);
    throw err;
  }
  checkCopyData(file, statements);
  if (!noTransaction) checkTransactional(file, statements);
  return { migration: m, direction, file, sql, noTransaction, statements };
}

interface Tree {
  TransactionStmt?: { kind?: string };
  IndexStmt?: { concurrent?: boolean };
  DropStmt?: { concurrent?: boolean };
  ReindexStmt?: { params?: { DefElem?: { defname?: string } }[] };
  VacuumStmt?: { is_vacuumcmd?: boolean };
  CreatedbStmt?: unknown;
  DropdbStmt?: unknown;
  AlterSystemStmt?: unknown;
  CreateTableSpaceStmt?: unknown;
  DropTableSpaceStmt?: unknown;
}

/** Transaction control a migration must not use inside the transaction Slipway runs it in (savepoints are fine). */
const ENDS_TRANSACTION = new Set([
  'TRANS_STMT_BEGIN',
  'TRANS_STMT_START',
  'TRANS_STMT_COMMIT',
  'TRANS_STMT_ROLLBACK',
  'TRANS_STMT_PREPARE',
  'TRANS_STMT_COMMIT_PREPARED',
  'TRANS_STMT_ROLLBACK_PREPARED',
]);

/** True for statements PostgreSQL refuses inside a transaction block. */
function refusedInTransaction(t: Tree): boolean {
  return !!(
    t.IndexStmt?.concurrent ||
    t.DropStmt?.concurrent ||
    t.ReindexStmt?.params?.some((p) => p.DefElem?.defname === 'concurrently') ||
    (t.VacuumStmt && t.VacuumStmt.is_vacuumcmd) ||
    t.CreatedbStmt ||
    t.DropdbStmt ||
    t.AlterSystemStmt ||
    t.CreateTableSpaceStmt ||
    t.DropTableSpaceStmt
  );
}

/**
 * True for a statement that builds or drops an index concurrently: it runs in several
 * transactions, so a failure or a kill midway leaves an invalid index behind.
 */
export function changesIndexConcurrently(s: SqlStatement): boolean {
  const t = nodeOf(s) as Tree;
  return !!(
    t.IndexStmt?.concurrent ||
    t.DropStmt?.concurrent ||
    t.ReindexStmt?.params?.some((p) => p.DefElem?.defname === 'concurrently')
  );
}

/** A file that runs in a transaction must not end it, nor hold statements PostgreSQL refuses inside one. */
function checkTransactional(file: string, statements: SqlStatement[]): void {
  for (const s of statements) {
    const t = nodeOf(s) as Tree;
    if (t.TransactionStmt && ENDS_TRANSACTION.has(t.TransactionStmt.kind ?? ''))
      throw new UserError(
        `${file}:${s.line}: ${shownStatement(s.text)} would end the transaction Slipway runs this migration in; remove it, or ${NO_TRANSACTION_ADVICE} to manage transactions yourself`,
        { file, line: s.line },
      );
    if (refusedInTransaction(t))
      throw new UserError(
        `${file}:${s.line}: ${shownStatement(s.text)} cannot run inside a transaction; ${NO_TRANSACTION_ADVICE} (and keep that migration to this statement)`,
        { file, line: s.line },
      );
  }
}

/**
 * psql sends the lines after `COPY … FROM stdin` as the copy's data; the runner sends SQL
 * only, so such a statement would fail (or read the next statements as data) on the server.
 */
function checkCopyData(file: string, statements: SqlStatement[]): void {
  const copy = statements.find((s) => s.copyData !== undefined);
  if (copy)
    throw new UserError(
      `${file}:${copy.line}: ${shownStatement(copy.text)} reads its data from the lines that follow it, which only psql can send; write the rows as INSERT … VALUES, or run this migration with psql through tool: command`,
      { file, line: copy.line },
    );
}
