/**
 * Migrations that run outside a transaction, up or down, are recorded as started before their
 * first statement, with how many statements have finished, so a run that was killed (or
 * failed) midway leaves a mark: the next run says which statements ran, which one failed or
 * may have run, and refuses until a person has looked and resolved it (`resolve: "<version>
 * applied"` or `"<version> pending"`), the state golang-migrate calls dirty, with a clear way
 * out. After a concurrent index build, an index left invalid (`pg_index.indisvalid = false`,
 * which for a unique index may not enforce uniqueness) fails the migration, naming the index.
 */
import { createHash } from 'node:crypto';
import { UserError } from '../core/errors.js';
import { sqlLiteral, quoteQualified, type DbSession } from './database.js';
import { ensureTable, forgetSql } from './history.js';

/** A migration started and not finished. */
export interface UnfinishedRow {
  version: bigint;
  name: string;
  file: string;
  statements: number;
  done: number;
  startedAt: string;
  by: string;
  /** A down migration leaves its history row in place until its last statement: the mark says which way it went. */
  direction: 'up' | 'down';
  /** The line, in the file as it ran, of the statement after the `done` ones (null in marks written before it was kept). */
  line: number | null;
  /** sha256 of the SQL that ran: `line` names the file as it is only while this still matches. */
  sqlChecksum: string | null;
  /** PostgreSQL's message when that statement failed: it ended with an error, so it did not merely "may have run". */
  error: string | null;
}

/** The table of started migrations, next to the history table. */
function startedTable(table: string): string {
  return `${table}_started`;
}

/**
 * Create the table of started migrations when missing, or add the columns a table made by an
 * earlier version lacks. Looked up first: CREATE TABLE IF NOT EXISTS checks the right to create
 * in the schema even when the table is there, and an ALTER on every run would take its lock.
 */
async function ensureStartedTable(session: DbSession, table: string): Promise<void> {
  const name = quoteQualified(startedTable(table));
  const [state] = await session.query<{ found: string | null; current: boolean }>(
    `SELECT to_regclass($1)::text AS found,
            EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'direction' AND NOT attisdropped) AS current`,
    [name],
  );
  // Through the history table's own creation: a role that may not create in the schema gets
  // one line naming the right and the GRANT, not an internal error in the middle of a run.
  if (!state?.found)
    await ensureTable(
      session,
      startedTable(table),
      `version bigint PRIMARY KEY,
    name text NOT NULL,
    file text NOT NULL,
    statements integer NOT NULL,
    done integer NOT NULL DEFAULT 0,
    started_at timestamptz NOT NULL DEFAULT now(),
    started_by text NOT NULL,
    direction text NOT NULL DEFAULT 'up',
    line integer,
    sql_checksum text,
    error text`,
      'the no-transaction marks table',
    );
  else if (!state.current)
    await session.exec(
      `ALTER TABLE ${name} ADD COLUMN IF NOT EXISTS direction text NOT NULL DEFAULT 'up', ADD COLUMN IF NOT EXISTS line integer, ADD COLUMN IF NOT EXISTS sql_checksum text, ADD COLUMN IF NOT EXISTS error text`,
    );
}

/** The checksum a mark keeps of the SQL that ran (the up or the down part, as the runner sent it). */
export function sqlChecksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/** The unfinished migrations; empty when the table does not exist. */
export async function readUnfinished(session: DbSession, table: string): Promise<UnfinishedRow[]> {
  const t = startedTable(table);
  const exists = await session.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [quoteQualified(t)]);
  if (!exists[0]?.t) return [];
  const rows = await session.query<{
    version: string;
    name: string;
    file: string;
    statements: number;
    done: number;
    started_at: string;
    started_by: string;
    direction: string | null;
    line: string | null;
    sql_checksum: string | null;
    error: string | null;
  }>(
    // Through to_jsonb, so a mark left in a table made before the later columns still reads.
    `SELECT version::text AS version, name, file, statements, done, started_at::text AS started_at, started_by,
            to_jsonb(s)->>'direction' AS direction, to_jsonb(s)->>'line' AS line,
            to_jsonb(s)->>'sql_checksum' AS sql_checksum, to_jsonb(s)->>'error' AS error
       FROM ${quoteQualified(t)} s ORDER BY version`,
  );
  return rows.map((r) => ({
    version: BigInt(r.version),
    name: r.name,
    file: r.file,
    statements: Number(r.statements),
    done: Number(r.done),
    startedAt: r.started_at,
    by: r.started_by,
    direction: r.direction === 'down' ? 'down' : 'up',
    line: r.line === null ? null : Number(r.line),
    sqlChecksum: r.sql_checksum,
    error: r.error,
  }));
}

/** Mark a migration (or its down part) as started, before its first statement. */
export async function markStarted(
  session: DbSession,
  table: string,
  m: {
    version: bigint;
    name: string;
    file: string;
    statements: number;
    direction: 'up' | 'down';
    /** The first statement's line. */
    line: number | null;
    sqlChecksum: string;
  },
  by: string,
): Promise<void> {
  await ensureStartedTable(session, table);
  await session.query(
    `INSERT INTO ${quoteQualified(startedTable(table))} (version, name, file, statements, started_by, direction, line, sql_checksum) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (version) DO UPDATE SET done = 0, started_at = now(), started_by = EXCLUDED.started_by, statements = EXCLUDED.statements, file = EXCLUDED.file,
       direction = EXCLUDED.direction, line = EXCLUDED.line, sql_checksum = EXCLUDED.sql_checksum, error = NULL`,
    [m.version.toString(), m.name, m.file, m.statements, by, m.direction, m.line, m.sqlChecksum],
  );
}

/** Record that the first `done` statements finished, and the line of the one that starts next (null after the last). */
export async function markProgress(
  session: DbSession,
  table: string,
  version: bigint,
  done: number,
  nextLine: number | null,
): Promise<void> {
  await session.exec(
    `UPDATE ${quoteQualified(startedTable(table))} SET done = ${done}, line = ${nextLine ?? 'NULL'} WHERE version = ${version}`,
  );
}

/** Record that the statement after the `done` ones ended with PostgreSQL's error `message`. */
export async function markFailed(session: DbSession, table: string, version: bigint, message: string): Promise<void> {
  await session.query(`UPDATE ${quoteQualified(startedTable(table))} SET error = $1 WHERE version = $2`, [
    message,
    version.toString(),
  ]);
}

/** The statement that clears the mark, sent with the history row in one transaction. */
export function clearSql(table: string, version: bigint): string {
  return `DELETE FROM ${quoteQualified(startedTable(table))} WHERE version = ${version}`;
}

/** What the two resolutions mean for a down migration that did not finish (its history row is still there). */
export const DOWN_RESOLVE_MEANING = {
  applied: 'you put back what it reverted: it stays applied',
  pending: 'you finished reverting it: it is recorded as not applied',
};

/**
 * One line on an unfinished migration and how to resolve it. `sqlNow` is the SQL of that part
 * of the file as it is now (undefined when the file is gone): the recorded line names the file
 * as it ran, which an edit since may have moved. `invalid` are indexes left invalid, named
 * when the file builds one concurrently.
 */
export function unfinishedRefusal(
  u: UnfinishedRow,
  shown: string,
  sqlNow: string | undefined,
  invalid: string[] = [],
): UserError {
  const next = u.done + 1;
  const at =
    u.line === null
      ? ''
      : sqlNow !== undefined && u.sqlChecksum === sqlChecksum(sqlNow)
        ? ` (line ${u.line})`
        : ` (line ${u.line} when it ran; the file has changed since)`;
  const ran =
    u.done === 0
      ? 'none of its statements finished'
      : `statement${u.done === 1 ? ' 1' : `s 1-${u.done}`} of ${u.statements} ran`;
  // A statement that ended with an error is known to have ended; one cut off by a kill may have committed.
  const failed = `statement ${next}${u.done === 0 ? ` of ${u.statements}` : ''}${at} failed (${u.error}); nothing after it ran`;
  const progress =
    next > u.statements
      ? ran
      : u.error !== null
        ? u.done === 0
          ? failed
          : `${ran}, ${failed}`
        : `${ran}, statement ${next}${at} may have run`;
  const indexes = invalid.length
    ? ` Index ${invalid.join(', ')} ${invalid.length === 1 ? 'is' : 'are'} invalid (a concurrent build that did not finish; IF NOT EXISTS would skip ${invalid.length === 1 ? 'it' : 'them'}): ${dropIndexes(invalid)} before resolving.`
    : '';
  const down = u.direction === 'down';
  return new UserError(
    `${u.file} runs outside a transaction and ${down ? 'its down migration ' : ''}did not finish (started by ${u.by} at ${u.startedAt}): ${progress}${down ? `; the history still lists ${shown} as applied` : ''}.${indexes} Check the database, then run migrate with resolve: ${
      down
        ? `"${shown} applied" (${DOWN_RESOLVE_MEANING.applied}) or "${shown} pending" (${DOWN_RESOLVE_MEANING.pending})`
        : `"${shown} applied" (it is done) or "${shown} pending" (run it again)`
    }`,
    { file: u.file },
  );
}

/** The statements that drop indexes left invalid (DROP INDEX CONCURRENTLY takes one index at a time). */
export function dropIndexes(names: string[]): string {
  return names.map((n) => `DROP INDEX CONCURRENTLY ${n}`).join('; ');
}

/** The `resolve` input: `<version> applied|pending`. */
export function parseResolve(raw: string): { version: string; as: 'applied' | 'pending' } | null {
  const text = raw.trim();
  if (!text) return null;
  const m = /^(\S+)\s+(applied|pending)$/.exec(text);
  if (!m)
    throw new UserError(
      `input "resolve": expected "<version> applied" or "<version> pending" for a migration that did not finish, got ${JSON.stringify(text)}`,
    );
  return { version: m[1], as: m[2] as 'applied' | 'pending' };
}

/** Indexes left invalid by a concurrent build that did not finish, schema-qualified. */
export async function invalidIndexes(session: DbSession): Promise<string[]> {
  const rows = await session.query<{ name: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT i.indisvalid ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

/** The SQL that records a down migration as finished by hand: its history row and the mark removed, together. */
export function resolveRevertedSql(history: string, version: bigint): string {
  return `BEGIN; ${forgetSql(history, version)}; ${clearSql(history, version)}; COMMIT`;
}

/** The SQL that records the resolution `applied`: the history row and the mark cleared, together. */
export function resolveAppliedSql(history: string, u: UnfinishedRow, checksum: string, by: string): string {
  return `BEGIN; INSERT INTO ${quoteQualified(history)} (version, name, checksum, duration_ms, applied_by) VALUES (${u.version}, ${sqlLiteral(u.name)}, ${sqlLiteral(checksum)}, 0, ${sqlLiteral(`${by} (resolved)`)}); ${clearSql(history, u.version)}; COMMIT`;
}
