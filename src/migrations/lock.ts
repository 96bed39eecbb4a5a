/**
 * One run at a time: a session-level advisory lock held on a connection of its own that
 * stays idle (outside any transaction), so it neither blocks nor deadlocks
 * `CREATE INDEX CONCURRENTLY`, which waits for open transactions. PostgreSQL releases the
 * lock when that connection dies, so a killed run never leaves it behind.
 */
import { createHash } from 'node:crypto';
import { cancelReason, isCancelled, onCancel } from '../core/cancel.js';
import { UserError } from '../core/errors.js';
import { duration } from '../core/markdown.js';
import { pgErrorOf, type Database, type DbSession } from './database.js';

/** The default lock wait. */
export const DEFAULT_LOCK_TIMEOUT_MS = 300_000;

/**
 * Every query on the lock connection is short (try the lock, look up its holder, unlock), so
 * one that gets no answer within this time means the network or the server is stuck: fail
 * clearly instead of waiting forever.
 */
const DEFAULT_LOCK_QUERY_TIMEOUT_MS = 30_000;

/** The first half of the lock key: "SLIP", so Slipway's locks are easy to spot in pg_locks. */
const NAMESPACE = 0x534c4950;

/**
 * The second half of the lock key: a hash of the schema-qualified history table, so two tables
 * never share a lock and two spellings of one table (`t`, `public.t`) never get two.
 */
export function lockKey(qualifiedTable: string): number {
  return createHash('sha256').update(qualifiedTable.toLowerCase()).digest().readUInt32BE(0) & 0x7fffffff;
}

/**
 * `schema.table` as the server resolves `table`: an unqualified name lives in the first schema
 * of the search_path that exists. When none exists (`?options=-c search_path=app` before `app`
 * is created) the run is refused, naming the search_path: a history table put anywhere else would
 * be looked for on the search_path by the next run, not found, and every migration applied
 * again.
 */
export async function qualifiedTable(session: DbSession, table: string): Promise<string> {
  if (table.includes('.')) return table;
  const [row] = await session.query<{ schema: string | null; path: string; db: string; role: string }>(
    "SELECT current_schema() AS schema, current_setting('search_path') AS path, current_database() AS db, current_user AS role",
  );
  if (row?.schema) return `${row.schema}.${table}`;
  // No row at all: a dry run's empty stand-in (no server to ask), whose history is empty anyway.
  if (!row) return `public.${table}`;
  const first = (row?.path ?? '')
    .split(',')
    .map((s) => s.trim())
    .find((s) => s && s !== '"$user"' && s !== '$user');
  throw new UserError(
    `no schema on the search_path (${row.path}) exists in database ${row.db} for this role (missing, or without USAGE), so the history table ${table} and the migrations have no schema to go in; ${first ? `create it first (CREATE SCHEMA ${first} AUTHORIZATION ${row.role})` : 'create one first'}, or take it out of the URL's search_path (migrations that name no schema need one there)`,
  );
}

/** The schema-qualified name the lock key is made of; a search_path with no schema is the run's to refuse, not the lock's. */
async function lockName(session: DbSession, table: string): Promise<string> {
  if (table.includes('.')) return table;
  const [row] = await session.query<{ schema: string | null }>('SELECT current_schema() AS schema');
  // `tool: command` keeps its own history; its URL's search_path may name a schema its first migration creates.
  return `${row?.schema ?? 'public'}.${table}`;
}

/** The lock could not be taken: another run held it past the lock timeout, or this run was cancelled while waiting. Nothing was applied. */
export class LockNotTaken extends UserError {}

/** Who holds the lock, from pg_stat_activity. */
interface Holder {
  pid: number;
  application_name: string;
  client: string | null;
  since: string | null;
}

/** A held lock; release() unlocks and closes its connection. */
export interface HeldLock {
  release(): Promise<void>;
}

/** Options for acquiring the lock. */
export interface LockOptions {
  table: string;
  timeoutMs: number;
  log: (message: string) => void;
  /** Longest single wait on the server for the lock before the holder is looked up again (default 5 s). */
  waitSliceMs?: number;
  /** How long one query on the lock connection may wait for an answer (default 30 s). */
  queryTimeoutMs?: number;
}

/**
 * Take the migration lock, waiting on the server (pg_advisory_lock under lock_timeout) so the
 * lock is ours the moment the holder lets go, in slices so the holder can be named while we
 * wait; a UserError names who holds it when `timeoutMs` runs out.
 */
export async function acquireLock(db: Database, options: LockOptions): Promise<HeldLock> {
  const queryTimeoutMs = options.queryTimeoutMs || DEFAULT_LOCK_QUERY_TIMEOUT_MS;
  const session = await db.connect('lock', { queryTimeoutMs });
  const started = Date.now();
  let lastHolder = '';
  try {
    const key = lockKey(await lockName(session, options.table));
    // A slice must end well before the connection's own query timeout would call it stuck.
    const slice = Math.max(50, Math.min(options.waitSliceMs ?? 5000, Math.floor(queryTimeoutMs / 2)));
    for (;;) {
      const [row] = await session.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [NAMESPACE, key]);
      if (row?.ok) break;
      const holder = describeHolder(await holderOf(session, key));
      const waited = Date.now() - started;
      if (isCancelled()) throw cancelledWaiting(options.table);
      if (waited >= options.timeoutMs)
        throw new LockNotTaken(
          `another migration run holds the lock on ${options.table} (${holder}); gave up after ${duration(waited)} (input "lock-timeout")`,
        );
      if (holder !== lastHolder) {
        options.log(
          `Waiting for the migration lock on ${options.table}, held by ${holder} (up to ${duration(options.timeoutMs)}).`,
        );
        lastHolder = holder;
      }
      // A cancelled run stops waiting at once (the server cancels the wait): it has seconds to report and exit.
      const stopWaiting = onCancel(() => session.cancel?.(), 'stop');
      try {
        if (await waitForLock(session, key, Math.max(1, Math.min(slice, options.timeoutMs - waited)))) break;
      } catch (err) {
        if (isCancelled()) throw cancelledWaiting(options.table);
        throw err;
      } finally {
        stopWaiting();
      }
    }
    if (lastHolder) options.log(`Got the migration lock after ${duration(Date.now() - started)}.`);
    return {
      release: async () => {
        await session.query('SELECT pg_advisory_unlock($1, $2)', [NAMESPACE, key]).catch(() => undefined);
        await session.close();
      },
    };
  } catch (err) {
    await session.close();
    throw err;
  }
}

function cancelledWaiting(table: string): LockNotTaken {
  return new LockNotTaken(
    `cancelled (${cancelReason()}) while waiting for the migration lock on ${table}; nothing was applied`,
  );
}

/** Block on the server for up to `ms`; true once the lock is ours, false when the wait ran out. */
async function waitForLock(session: DbSession, key: number, ms: number): Promise<boolean> {
  await session.exec(`SET lock_timeout = ${Math.round(ms)}`);
  try {
    await session.query('SELECT pg_advisory_lock($1, $2)', [NAMESPACE, key]);
    return true;
  } catch (err) {
    // 55P03 lock_not_available: lock_timeout ran out, the holder still has it.
    if (pgErrorOf(err)?.code === '55P03') return false;
    throw err;
  } finally {
    await session.exec('SET lock_timeout = 0').catch(() => undefined);
  }
}

async function holderOf(session: DbSession, key: number): Promise<Holder | null> {
  const rows = await session.query<Holder>(
    `SELECT a.pid, a.application_name, a.client_addr::text AS client, a.backend_start::text AS since
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid AND l.objsubid = 2
      LIMIT 1`,
    [NAMESPACE, key],
  );
  return rows[0] ?? null;
}

function describeHolder(h: Holder | null): string {
  if (!h) return 'a session that just let go';
  const who = h.application_name ? `"${h.application_name}"` : 'an unnamed client';
  return `${who}, backend pid ${h.pid}${h.client ? ` from ${h.client}` : ''}${h.since ? `, connected at ${h.since}` : ''}`;
}
