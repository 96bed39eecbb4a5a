/**
 * Migrations that run outside a transaction are recorded as started before their first
 * statement, with how many statements have finished, so a run that was killed (or failed)
 * midway leaves a mark: the next run says which statements ran and which one may have, and
 * refuses until a person has looked and resolved it (`resolve: "<version> applied"` or
 * `"<version> pending"`), the state golang-migrate calls dirty, with a clear way out. After a
 * concurrent index build, an index left invalid (`pg_index.indisvalid = false`, which for a
 * unique index may not enforce uniqueness) fails the migration, naming the index.
 */
import { UserError } from '../core/errors.js';
import { sqlLiteral, quoteQualified, type DbSession } from './database.js';

/** A migration started and not finished. */
export interface UnfinishedRow {
  version: bigint;
  name: string;
  file: string;
  statements: number;
  done: number;
  startedAt: string;
  by: string;
}

/** The table of started migrations, next to the history table. */
function startedTable(table: string): string {
  return `${table}_started`;
}

/** Create the table of started migrations when missing. */
async function ensureStartedTable(session: DbSession, table: string): Promise<void> {
  await session.exec(`CREATE TABLE IF NOT EXISTS ${quoteQualified(startedTable(table))} (
    version bigint PRIMARY KEY,
    name text NOT NULL,
    file text NOT NULL,
    statements integer NOT NULL,
    done integer NOT NULL DEFAULT 0,
    started_at timestamptz NOT NULL DEFAULT now(),
    started_by text NOT NULL
  )`);
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
  }>(
    `SELECT version::text AS version, name, file, statements, done, started_at::text AS started_at, started_by FROM ${quoteQualified(t)} ORDER BY version`,
  );
  return rows.map((r) => ({
    version: BigInt(r.version),
    name: r.name,
    file: r.file,
    statements: Number(r.statements),
    done: Number(r.done),
    startedAt: r.started_at,
    by: r.started_by,
  }));
}

/** Mark a migration as started, before its first statement. */
export async function markStarted(
  session: DbSession,
  table: string,
  m: { version: bigint; name: string; file: string; statements: number },
  by: string,
): Promise<void> {
  await ensureStartedTable(session, table);
  await session.query(
    `INSERT INTO ${quoteQualified(startedTable(table))} (version, name, file, statements, started_by) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (version) DO UPDATE SET done = 0, started_at = now(), started_by = EXCLUDED.started_by, statements = EXCLUDED.statements, file = EXCLUDED.file`,
    [m.version.toString(), m.name, m.file, m.statements, by],
  );
}

/** Record that the first `done` statements finished. */
export async function markProgress(session: DbSession, table: string, version: bigint, done: number): Promise<void> {
  await session.exec(`UPDATE ${quoteQualified(startedTable(table))} SET done = ${done} WHERE version = ${version}`);
}

/** The statement that clears the mark, sent with the history row in one transaction. */
export function clearSql(table: string, version: bigint): string {
  return `DELETE FROM ${quoteQualified(startedTable(table))} WHERE version = ${version}`;
}

/** One line on an unfinished migration and how to resolve it. */
export function unfinishedRefusal(
  u: UnfinishedRow,
  shown: string,
  line: (statement: number) => number | undefined,
): UserError {
  const next = u.done + 1;
  const at = line(next);
  const ran =
    u.done === 0
      ? 'none of its statements finished'
      : `statement${u.done === 1 ? ' 1' : `s 1-${u.done}`} of ${u.statements} ran`;
  const maybe = next <= u.statements ? `, statement ${next}${at ? ` (line ${at})` : ''} may have run` : '';
  return new UserError(
    `${u.file} runs outside a transaction and did not finish (started by ${u.by} at ${u.startedAt}): ${ran}${maybe}. Check the database, then run migrate with resolve: "${shown} applied" (it is done) or "${shown} pending" (run it again)`,
    { file: u.file },
  );
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

/** The SQL that records the resolution `applied`: the history row and the mark cleared, together. */
export function resolveAppliedSql(history: string, u: UnfinishedRow, checksum: string, by: string): string {
  return `BEGIN; INSERT INTO ${quoteQualified(history)} (version, name, checksum, duration_ms, applied_by) VALUES (${u.version}, ${sqlLiteral(u.name)}, ${sqlLiteral(checksum)}, 0, ${sqlLiteral(`${by} (resolved)`)}); ${clearSql(history, u.version)}; COMMIT`;
}
