/**
 * The small database surface the runner needs, so the same runner works on a PostgreSQL
 * server through `pg` and on an embedded PGlite folder (the CLI and demo only).
 */

/** One connection. */
export interface DbSession {
  /** Run SQL text, possibly several statements, without parameters (the simple query protocol). */
  exec(sql: string): Promise<void>;
  /** One statement with parameters; its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /**
   * Ask the server to cancel the statement this session is running (its query then fails with
   * query_canceled); nothing when it is idle. Absent where no other process can reach the database.
   */
  cancel?(): Promise<void>;
  /**
   * Put the session back as it connected: a migration's SET, SET ROLE or temporary table lasts
   * for the session, and would otherwise change what the next file of the same run does (and
   * not when that file runs alone in a later run).
   */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** What `reset()` runs: every session setting, the role, and temporary tables (advisory locks are kept). */
export const RESET_SESSION_SQL = 'RESET SESSION AUTHORIZATION; RESET ROLE; RESET ALL; DISCARD TEMP';

/** How a session behaves. */
export interface SessionOptions {
  /**
   * Fail a query that gets no answer within this many milliseconds (unset: wait, as a long
   * migration must). For sessions whose queries are all short, so a dead network is noticed.
   */
  queryTimeoutMs?: number;
}

/** A database the runner can migrate. */
export interface Database {
  /** Where it is, without credentials: `host:port/name`, or the folder. */
  readonly where: string;
  /** False for an embedded database: one session, no other process can reach it. */
  readonly shared: boolean;
  /** Open a session; `purpose` names it in pg_stat_activity (who holds the lock). */
  connect(purpose: string, options?: SessionOptions): Promise<DbSession>;
  /** Write a backup, readable by its owner only, into the existing folder `dir`; returns its path. */
  backup(dir: string, label: string): Promise<string>;
  close(): Promise<void>;
}

/** A PostgreSQL error, as both drivers report it. */
export interface PgError {
  message: string;
  code?: string;
  /** 1-based character position in the query text. */
  position?: number;
  detail?: string;
  hint?: string;
}

/** The PostgreSQL fields of an error thrown by `pg` or PGlite, or null when it is not one. */
export function pgErrorOf(err: unknown): PgError | null {
  if (!err || typeof err !== 'object') return null;
  const e = err as { message?: unknown; code?: unknown; position?: unknown; detail?: unknown; hint?: unknown };
  if (typeof e.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code)) return null;
  const position = Number(e.position);
  return {
    message: String(e.message ?? ''),
    code: e.code,
    position: Number.isFinite(position) && position > 0 ? position : undefined,
    detail: typeof e.detail === 'string' ? e.detail : undefined,
    hint: typeof e.hint === 'string' ? e.hint : undefined,
  };
}

/** Quote an SQL literal (standard_conforming_strings is on in every supported version). */
export function sqlLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Quote a possibly schema-qualified identifier that was validated as `name` or `schema.name`. */
export function quoteQualified(name: string): string {
  return name
    .split('.')
    .map((p) => `"${p.replace(/"/g, '""')}"`)
    .join('.');
}
