/**
 * Running one migration. A transactional migration goes to the server as one query —
 * BEGIN, the file, the history row, COMMIT — so it costs one round trip and is all or
 * nothing. A `-- slipway:no-transaction` file runs statement by statement and is recorded
 * after its last one.
 */
import { CancelledError, cancelReason, isCancelled } from '../core/cancel.js';
import { UserError } from '../core/errors.js';
import { sqlLiteral, pgErrorOf, quoteQualified, type DbSession, type PgError } from './database.js';
import { forgetSql, recordSql } from './history.js';
import {
  clearSql,
  DOWN_RESOLVE_MEANING,
  dropIndexes,
  invalidIndexes,
  markFailed,
  markProgress,
  markStarted,
  resolveRevertedSql,
  sqlChecksum,
} from './unfinished.js';
import { changesIndexConcurrently, type PlannedMigration } from './plan.js';
import { codePointLength, lineAtCodePoint, type SqlStatement } from './sql-split.js';

const PREFIX = 'BEGIN;\n';

/** Run one planned step; a failure is a UserError naming the file, the statement's line and PostgreSQL's message. */
export async function applyStep(
  session: DbSession,
  step: PlannedMigration,
  table: string,
  by: string,
): Promise<number> {
  if (isCancelled()) throw new CancelledError(step.file);
  const started = performance.now();
  if (step.noTransaction) await applyOutsideTransaction(session, step, table, by, started);
  else await applyInTransaction(session, step, table, by);
  return performance.now() - started;
}

async function applyInTransaction(
  session: DbSession,
  step: PlannedMigration,
  table: string,
  by: string,
): Promise<void> {
  const { migration: m } = step;
  const bookkeeping = step.direction === 'up' ? recordSql(table, m, by) : forgetSql(table, m.version);
  // The newline matters: a file ending in a -- comment would otherwise swallow what follows.
  const query = `${PREFIX}${step.sql}\n;\n${bookkeeping};\nCOMMIT`;
  try {
    await session.exec(query);
  } catch (err) {
    await session.exec('ROLLBACK').catch(() => undefined);
    const pgErr = pgErrorOf(err);
    if (!pgErr) throw err;
    let line = lineFromPosition(step.sql, pgErr.position, codePointLength(PREFIX));
    // A cancelled run replays nothing: the replay would run the slow statement again.
    if (line === undefined && pgErr.position === undefined && step.statements.length > 1 && !isCancelled())
      line = await locateByReplay(session, step.statements);
    if (line === undefined && step.statements.length === 1) line = step.statements[0].line;
    throw failure(step, pgErr, line, 'rolled back; nothing after it ran');
  }
}

async function applyOutsideTransaction(
  session: DbSession,
  step: PlannedMigration,
  table: string,
  by: string,
  started: number,
): Promise<void> {
  const m = step.migration;
  const up = step.direction === 'up';
  const kind = up ? 'migration' : 'down migration';
  // Marked before the first statement, either way: a down killed or failed midway has reverted
  // part of the migration while its history row still says applied, and the next run must not
  // plan from that row as if nothing happened.
  await markStarted(
    session,
    table,
    {
      version: m.version,
      name: m.name,
      file: step.file,
      statements: step.statements.length,
      direction: step.direction,
      line: step.statements[0]?.line ?? null,
      sqlChecksum: sqlChecksum(step.sql),
    },
    by,
  );
  const settle = up
    ? `"${m.versionText} applied" or "${m.versionText} pending"`
    : `"${m.versionText} applied" (${DOWN_RESOLVE_MEANING.applied}) or "${m.versionText} pending" (${DOWN_RESOLVE_MEANING.pending})`;
  const resolveHint = `it is marked unfinished: check the database, then run migrate with resolve: ${settle}`;
  for (const [i, s] of step.statements.entries()) {
    // Cancelled between two statements: the next one does not start.
    if (i > 0 && isCancelled())
      throw new UserError(
        `${step.file}:${s.line}: ${kind} cancelled (${cancelReason()}) before this statement; it runs outside a transaction, so its ${i} statement${i === 1 ? '' : 's'} before stayed applied; ${resolveHint}`,
        { file: step.file, line: s.line },
      );
    const at = step.sql.indexOf(s.text, s.offset);
    // A concurrent build that fails leaves its index behind, invalid: what was invalid before
    // tells which ones this statement left.
    const concurrent = changesIndexConcurrently(s);
    const invalidBefore = concurrent ? await invalidIndexes(session) : [];
    try {
      await session.exec(s.text);
    } catch (err) {
      const pgErr = pgErrorOf(err);
      if (!pgErr) throw err;
      // An error from the server means the statement ended: the mark says it failed, not that
      // it may have run. The run's own cancel keeps "may have run": it may have been too late.
      if (!ourCancel(pgErr)) await markFailed(session, table, m.version, pgErr.message).catch(() => undefined);
      const left = concurrent
        ? (await invalidIndexes(session).catch(() => [])).filter((n) => !invalidBefore.includes(n))
        : [];
      const line =
        pgErr.position !== undefined
          ? lineAtCodePoint(step.sql.slice(0, at), Number.MAX_SAFE_INTEGER) +
            lineAtCodePoint(s.text, pgErr.position - 1) -
            1
          : s.line;
      const before = `its ${i} statement${i === 1 ? '' : 's'} before line ${line} stayed applied`;
      const leftBehind = `the failed concurrent statement left the invalid index${left.length === 1 ? '' : 'es'} ${left.join(', ')} behind (IF NOT EXISTS would skip ${left.length === 1 ? 'it' : 'them'} on a re-run)`;
      // Only a statement that runs in one transaction is all or nothing; a concurrent one is not.
      const kept = left.length
        ? `it runs outside a transaction, so ${i ? `${before}, and ` : ''}${leftBehind}`
        : i > 0
          ? `it runs outside a transaction, so ${before}`
          : concurrent
            ? 'it is the first statement, and it left no invalid index'
            : 'nothing of it was applied';
      const hint = !left.length
        ? resolveHint
        : `it is marked unfinished: ${dropIndexes(left)}, then ${up ? `run migrate with resolve: "${m.versionText} pending" to run it again` : `check the database and run migrate with resolve: ${settle}`}`;
      throw failure(step, pgErr, line, `${kept}; nothing after it ran; ${hint}`);
    }
    await markProgress(session, table, m.version, i + 1, step.statements[i + 1]?.line ?? null);
  }
  if (!up) {
    // The history row and the mark go together, so the two never disagree.
    await session.exec(resolveRevertedSql(table, m.version));
    return;
  }
  // A concurrent index build that did not finish leaves an invalid index behind (a unique one
  // may not enforce uniqueness), and IF NOT EXISTS would then skip it silently.
  if (step.statements.some(changesIndexConcurrently)) {
    const invalid = await invalidIndexes(session);
    if (invalid.length)
      throw new UserError(
        `${step.file}: index ${invalid.join(', ')} is invalid (a concurrent build did not finish); ${dropIndexes(invalid)}, then ${resolveHint.replace('it is marked unfinished: check the database, then ', '')}`,
        { file: step.file },
      );
  }
  const ms = Math.round(performance.now() - started);
  await session.exec(
    `BEGIN; INSERT INTO ${quoteQualified(table)} (version, name, checksum, duration_ms, applied_by) VALUES (${m.version}, ${sqlLiteral(m.name)}, ${sqlLiteral(m.checksum)}, ${ms}, ${sqlLiteral(by)}); ${clearSql(table, m.version)}; COMMIT`,
  );
}

/** The line in the file of a position in the query that wrapped it, or undefined when it is outside the file. */
function lineFromPosition(sql: string, position: number | undefined, prefixLength: number): number | undefined {
  if (position === undefined) return undefined;
  const inFile = position - 1 - prefixLength;
  if (inFile < 0 || inFile > codePointLength(sql)) return undefined;
  return lineAtCodePoint(sql, inFile);
}

/**
 * A run-time error (a constraint, a division by zero) carries no position. Replaying the
 * statements one by one in a transaction that is always rolled back finds the one that fails.
 */
async function locateByReplay(session: DbSession, statements: SqlStatement[]): Promise<number | undefined> {
  await session.exec('BEGIN');
  try {
    for (const s of statements) {
      try {
        await session.exec(s.text);
      } catch {
        return s.line;
      }
    }
    return undefined;
  } finally {
    await session.exec('ROLLBACK').catch(() => undefined);
  }
}

/** The run's own cancel request (query_canceled), not a statement_timeout the file set. */
function ourCancel(e: PgError): boolean {
  return e.code === '57014' && isCancelled() && /user request/.test(e.message);
}

function failure(step: PlannedMigration, e: PgError, line: number | undefined, after: string): UserError {
  const where = line ? `${step.file}:${line}` : step.file;
  const kind = step.direction === 'down' ? 'down migration' : 'migration';
  if (ourCancel(e))
    return new UserError(`${where}: ${kind} cancelled (${cancelReason()}); ${after}`, { file: step.file, line });
  const extra = [e.detail, e.hint ? `hint: ${e.hint}` : ''].filter(Boolean).join('; ');
  return new UserError(
    `${where}: ${kind} failed: ${e.message}${e.code ? ` (SQLSTATE ${e.code})` : ''}${extra ? ` — ${extra}` : ''}; ${after}`,
    { file: step.file, line },
  );
}
