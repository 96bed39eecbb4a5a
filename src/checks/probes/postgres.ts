/** PostgreSQL checks: connect with `pg`, run the query, disconnect, all within the attempt's bound. */
import pg from 'pg';
import type { ResolvedCheck } from '../resolve.js';
import type { PostgresCheck } from '../types.js';
import { networkError, ProbeError, msSince, type AttemptContext, type Observation } from './probe.js';

// SQLSTATEs that another attempt cannot fix: bad credentials, unknown database or role, bad query.
const PERMANENT = /^(28|3D|42)/;

/** Connect and run the check's query; the latency covers both. */
export async function probePostgres(check: PostgresCheck & ResolvedCheck, ctx: AttemptContext): Promise<Observation> {
  const where = `${check.env} → ${hostOf(check.connection!)}`;
  const start = performance.now();
  const timeout = Math.max(1, Math.round(ctx.timeoutMs));
  const client = new pg.Client({
    connectionString: check.connection,
    connectionTimeoutMillis: timeout,
    query_timeout: timeout,
    statement_timeout: timeout,
    application_name: 'slipway smoke-test',
  });
  // A connection error after the attempt is over must not crash the process.
  client.on('error', () => undefined);
  const onAbort = () => void client.end().catch(() => undefined);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await client.connect();
    await client.query(check.query);
    return { latencyMs: msSince(start) };
  } catch (err) {
    const e = err as Error & { code?: string };
    if (ctx.signal.aborted) throw networkError(err, ctx, where);
    if (e.code && /^[0-9A-Z]{5}$/.test(e.code))
      throw new ProbeError(`PostgreSQL answered ${e.code}: ${e.message} (${where})`, !PERMANENT.test(e.code));
    if (/timeout/i.test(e.message)) throw new ProbeError(`no answer within ${timeout} ms (${where})`, true);
    throw networkError(err, ctx, where);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    await client.end().catch(() => undefined);
  }
}

/** host:port of a connection URL, without its credentials. */
export function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}`;
  } catch {
    return 'the server';
  }
}
