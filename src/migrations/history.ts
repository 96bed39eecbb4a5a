/** The history table: which migrations ran, with their checksum, when, how long and by which run. */
import { UserError } from '../core/errors.js';
import { pgErrorOf, sqlLiteral, quoteQualified, type DbSession } from './database.js';

/** A row of the history table. */
export interface AppliedRow {
  version: bigint;
  name: string;
  checksum: string;
  appliedAt: string;
  durationMs: number;
  appliedBy: string;
}

/** The default history table. */
const DEFAULT_TABLE = 'slipway_migrations';

/** Check the `table` input: `name` or `schema.name` of plain identifiers. */
export function checkTableName(table: string): string {
  const t = table.trim() || DEFAULT_TABLE;
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/.test(t))
    throw new UserError(
      `input "table": expected a table name such as slipway_migrations or ops.migrations (letters, digits, _), got ${JSON.stringify(t)}`,
    );
  return t;
}

/** Create the table (and its schema) when missing. */
export async function ensureHistory(session: DbSession, table: string): Promise<void> {
  let schema = table.includes('.') ? table.split('.')[0] : null;
  // CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema is there.
  if (schema && (await session.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).length) schema = null;
  const stmts = [
    schema ? `CREATE SCHEMA IF NOT EXISTS ${quoteQualified(schema)}` : '',
    `CREATE TABLE IF NOT EXISTS ${quoteQualified(table)} (
      version bigint PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      duration_ms integer NOT NULL,
      applied_by text NOT NULL
    )`,
  ].filter(Boolean);
  await session.exec(stmts.join(';\n')).catch((err: unknown) => {
    // A role without CREATE on the schema (PostgreSQL 15's default on public) is the user's to fix.
    const e = pgErrorOf(err);
    if (!e) throw err;
    throw new UserError(
      `cannot create the history table ${table}: ${e.message} (SQLSTATE ${e.code}); expected a role that may create it there: grant it CREATE on the schema, or set "table" to schema.name in a schema it can write`,
    );
  });
}

/** The applied migrations in version order; empty when the table does not exist yet. */
export async function readHistory(session: DbSession, table: string): Promise<AppliedRow[]> {
  const exists = await session.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [
    quoteQualified(table),
  ]);
  if (!exists[0]?.t) return [];
  const rows = await session.query<{
    version: string;
    name: string;
    checksum: string;
    applied_at: string;
    duration_ms: number;
    applied_by: string;
  }>(
    // Ordered by the bigint column, not the text it is returned as.
    `SELECT h.version::text AS version, h.name, h.checksum, h.applied_at::text AS applied_at, h.duration_ms, h.applied_by
       FROM ${quoteQualified(table)} h ORDER BY h.version`,
  );
  return rows.map((r) => ({
    version: BigInt(r.version),
    name: r.name,
    checksum: r.checksum,
    appliedAt: r.applied_at,
    durationMs: Number(r.duration_ms),
    appliedBy: r.applied_by,
  }));
}

/**
 * The statement that records a migration inside its own transaction. It is sent in the same
 * query as the migration, so its duration is measured by the server from the query's start.
 */
export function recordSql(table: string, m: { version: bigint; name: string; checksum: string }, by: string): string {
  return `INSERT INTO ${quoteQualified(table)} (version, name, checksum, applied_at, duration_ms, applied_by) VALUES (${m.version}, ${sqlLiteral(m.name)}, ${sqlLiteral(m.checksum)}, clock_timestamp(), (extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000)::integer, ${sqlLiteral(by)})`;
}

/** The statement that forgets a reverted migration. */
export function forgetSql(table: string, version: bigint): string {
  return `DELETE FROM ${quoteQualified(table)} WHERE version = ${version}`;
}
