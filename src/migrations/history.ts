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

/** The history table's columns. */
const HISTORY_COLUMNS = `version bigint PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(),
      duration_ms integer NOT NULL,
      applied_by text NOT NULL`;

/** Create the history table (and its schema) when missing. */
export async function ensureHistory(session: DbSession, table: string): Promise<void> {
  await ensureTable(session, table, HISTORY_COLUMNS, 'the history table');
}

/**
 * Create `table` (and its schema) when it does not exist; `what` names it in errors. Existence
 * is checked first because `CREATE … IF NOT EXISTS` checks the right to create before it looks:
 * a role that owns the table, but may not create in its schema (PostgreSQL 15's public grants
 * that to no one), would be refused on every run. When it must create and may not, the error
 * names the role, the right it lacks and the GRANT that gives it.
 */
export async function ensureTable(session: DbSession, table: string, columns: string, what: string): Promise<void> {
  const named = table.includes('.') ? table.split('.')[0] : null;
  const [state] = await session
    .query<{ found: string | null; schema: string | null; role: string; db: string }>(
      `SELECT to_regclass($1)::text AS found, current_user AS role, current_database() AS db,
              COALESCE($2, current_schema()) AS schema`,
      [quoteQualified(table), named],
    )
    .catch(async (err: unknown) => {
      // Looking a name up in a schema needs USAGE on it; without that the table is out of reach.
      if (pgErrorOf(err)?.code !== '42501') throw err;
      const [who] = await session.query<{ role: string }>('SELECT current_user AS role');
      throw new UserError(
        `cannot use ${what} ${table}: the role ${who?.role} lacks USAGE on schema ${named}; grant it (GRANT USAGE ON SCHEMA ${ident(named ?? '')} TO ${ident(who?.role ?? '')}), or set "table" to schema.name in a schema it may use`,
      );
    });
  if (state?.found) return;
  const role = state?.role ?? 'the role';
  const schema = state?.schema ?? 'public';
  const shownTable = table.split('.').map(ident).join('.');
  const fail = (err: unknown, lacks: string, grant: string, instead: string): never => {
    const e = pgErrorOf(err);
    if (!e) throw err;
    if (e.code === '42501')
      throw new UserError(
        `cannot create ${what} ${table}: the role ${role} lacks CREATE on ${lacks}, which creating it needs (it does not exist yet); grant it (${grant} TO ${ident(role)}), ${instead}`,
      );
    throw new UserError(`cannot create ${what} ${table}: ${e.message} (SQLSTATE ${e.code})`);
  };
  // CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema is there.
  const schemaExists = (await session.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).length > 0;
  if (!schemaExists)
    await session
      .exec(`CREATE SCHEMA IF NOT EXISTS ${quoteQualified(schema)}`)
      .catch((err: unknown) =>
        fail(
          err,
          `database ${state?.db}`,
          `GRANT CREATE ON DATABASE ${ident(state?.db ?? '')}`,
          `or create the schema first (CREATE SCHEMA ${ident(schema)} AUTHORIZATION ${ident(role)})`,
        ),
      );
  await session
    .exec(`CREATE TABLE IF NOT EXISTS ${quoteQualified(table)} (\n      ${columns}\n    )`)
    .catch((err: unknown) =>
      fail(
        err,
        `schema ${schema}`,
        `GRANT CREATE ON SCHEMA ${ident(schema)}`,
        `or create it once as a role that may and make ${role} its owner (ALTER TABLE ${shownTable} OWNER TO ${ident(role)}), or set "table" to schema.name in a schema ${role} may create in`,
      ),
    );
}

/** An identifier as SQL needs it written: bare when it is a plain lower-case name, else quoted. */
function ident(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
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
