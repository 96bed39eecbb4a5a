/**
 * One run at a time: a session-level advisory lock held on a connection of its own that
 * stays idle (outside any transaction), so it neither blocks nor deadlocks
 * `CREATE INDEX CONCURRENTLY`, which waits for open transactions. PostgreSQL releases the
 * lock when that connection dies, so a killed run never leaves it behind.
 */
import { createHash } from 'node:crypto';
import { UserError } from '../core/errors.js';
import { duration } from '../core/markdown.js';
import { backoffDelay, sleep } from '../core/retry.js';
import type { Database, DbSession } from './database.js';

/** The default lock wait. */
export const DEFAULT_LOCK_TIMEOUT_MS = 300_000;

/**
 * Every query on the lock connection is short (try the lock, look up its holder, unlock), so
 * one that gets no answer within this time means the network or the server is stuck: fail
 * clearly instead of waiting forever.
 */
export const DEFAULT_LOCK_QUERY_TIMEOUT_MS = 30_000;

/** The first half of the lock key: "SLIP", so Slipway's locks are easy to spot in pg_locks. */
const NAMESPACE = 0x534c4950;

/** The second half of the lock key: a hash of the history table, so two tables never share a lock. */
export function lockKey(table: string): number {
  return createHash('sha256').update(table.toLowerCase()).digest().readUInt32BE(0) & 0x7fffffff;
}

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
  /** Poll interval before the first retry; doubles up to 5 s. */
  pollMs?: number;
  /** How long one query on the lock connection may wait for an answer (default 30 s). */
  queryTimeoutMs?: number;
}

/** Take the migration lock, polling until `timeoutMs`; a UserError names who holds it on timeout. */
export async function acquireLock(db: Database, options: LockOptions): Promise<HeldLock> {
  const key = lockKey(options.table);
  const session = await db.connect('lock', {
    queryTimeoutMs: options.queryTimeoutMs || DEFAULT_LOCK_QUERY_TIMEOUT_MS,
  });
  const started = Date.now();
  let lastHolder = '';
  try {
    for (let attempt = 1; ; attempt++) {
      const [row] = await session.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [NAMESPACE, key]);
      if (row?.ok) {
        if (attempt > 1) options.log(`Got the migration lock after ${duration(Date.now() - started)}.`);
        return {
          release: async () => {
            await session.query('SELECT pg_advisory_unlock($1, $2)', [NAMESPACE, key]).catch(() => undefined);
            await session.close();
          },
        };
      }
      const holder = describeHolder(await holderOf(session, key));
      const waited = Date.now() - started;
      if (waited >= options.timeoutMs)
        throw new UserError(
          `another migration run holds the lock on ${options.table} (${holder}); gave up after ${duration(waited)} (input "lock-timeout")`,
        );
      if (holder !== lastHolder) {
        options.log(
          `Waiting for the migration lock on ${options.table}, held by ${holder} (up to ${duration(options.timeoutMs)}).`,
        );
        lastHolder = holder;
      }
      const delay = backoffDelay(attempt, options.pollMs ?? 250, 5000);
      await sleep(Math.max(1, Math.min(delay, options.timeoutMs - waited)));
    }
  } catch (err) {
    await session.close();
    throw err;
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
