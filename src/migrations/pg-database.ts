/**
 * A PostgreSQL server through `pg`. The URL is a secret: it is validated without ever being
 * echoed, and every error leaving this module is stripped of it.
 */
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { errorMessage, UserError } from '../core/errors.js';
import { execFile } from '../core/exec.js';
import { duration } from '../core/markdown.js';
import { retry } from '../core/retry.js';
import { redactUrlPasswords } from '../core/secrets.js';
import { RESET_SESSION_SQL, type Database, type DbSession, type SessionOptions } from './database.js';

/** How long a connection attempt may take, and how many attempts a transient failure gets. */
const CONNECT_TIMEOUT_MS = 10_000;
const CONNECT_ATTEMPTS = 3;
/**
 * TCP keepalive on every connection: a peer that vanished (a NAT or a load balancer dropping
 * an idle flow, a host that died) is noticed by the kernel instead of leaving a socket that
 * waits forever, which matters most for the lock connection, idle for the whole run.
 */
const KEEPALIVE_DELAY_MS = 10_000;
/** How long closing a connection may wait for the server before the socket is dropped. */
const CLOSE_TIMEOUT_MS = 5_000;
/** How long cancelling a running statement may take: a cancelled job has seconds left. */
const CANCEL_TIMEOUT_MS = 2_000;
/** pg_dump of a large database can take a while, but not forever. */
const DUMP_TIMEOUT_MS = 60 * 60_000;

/** How errors name a URL given as the migrate action's input. */
const DATABASE_URL_INPUT = 'input "database-url"';

/** The parts of a connection URL, checked; throws a UserError naming `from` (where the URL came from) that never shows the URL. */
export function parseDatabaseUrl(url: string, from = DATABASE_URL_INPUT): URL {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new UserError(
      `${from}: expected a URL such as postgres://user:password@host:5432/database, got text that is not a URL`,
    );
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:')
    throw new UserError(
      `${from}: expected a postgres:// or postgresql:// URL, got a URL with scheme "${u.protocol.replace(/:$/, '')}"`,
    );
  if (!u.hostname && !u.searchParams.get('host'))
    throw new UserError(`${from}: the URL names no host (expected postgres://user:password@host:5432/database)`);
  return u;
}

/** `host:port/database` of a checked URL. */
export function describeUrl(u: URL): string {
  const host = u.hostname || u.searchParams.get('host') || 'localhost';
  return `${host}:${u.port || '5432'}/${decodeURIComponent(u.pathname.slice(1)) || decodeURIComponent(u.username) || 'postgres'}`;
}

// Auth, unknown database or role, bad parameters: retrying cannot help.
const PERMANENT = /^(28|3D|08P01|42)/;
/** pg's words when the URL asks for TLS (sslmode=require) and the server offers none. */
const NO_TLS = /does not support SSL/i;
/** Node's codes for a certificate it refused (sslmode=verify-full): a retry gets the same certificate. */
const BAD_CERT = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/;

/** Open a server database; the connection is checked (with bounded retries) before it is returned. */
export async function openServerDatabase(
  url: string,
  options: { applicationName?: string; onRetry?: (message: string) => void; from?: string } = {},
): Promise<Database> {
  const from = options.from ?? DATABASE_URL_INPUT;
  const u = parseDatabaseUrl(url, from);
  const where = describeUrl(u);
  const connectionString = withLibpqSslMode(u, from);
  const clean = (text: string) => redactUrlPasswords(text.split(url).join('***'));
  const appName = (purpose: string) => `${options.applicationName ?? 'slipway migrate'} ${purpose}`.slice(0, 63);

  /** One connected client, or the driver's error. */
  const newClient = async (purpose: string, queryTimeoutMs?: number): Promise<pg.Client> => {
    const c = new pg.Client({
      connectionString,
      connectionTimeoutMillis: Math.min(CONNECT_TIMEOUT_MS, queryTimeoutMs ?? CONNECT_TIMEOUT_MS),
      application_name: appName(purpose),
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
      ...(queryTimeoutMs ? { query_timeout: queryTimeoutMs } : {}),
    });
    // A connection dropped while idle must not crash the process; the next query reports it.
    c.on('error', () => undefined);
    try {
      await c.connect();
      return c;
    } catch (err) {
      await c.end().catch(() => undefined);
      throw err;
    }
  };

  /**
   * Cancel what backend `pid` runs, from a connection of its own: a cancelled run must not
   * leave its statement running after it let go of the lock. One attempt: it happens within
   * the few seconds a cancelled job has left.
   */
  const cancelBackend = async (pid: number): Promise<void> => {
    const c = await newClient('cancel', CANCEL_TIMEOUT_MS);
    try {
      await c.query('SELECT pg_cancel_backend($1)', [pid]);
    } finally {
      await closeClient(c);
    }
  };

  const connect = async (purpose: string, session: SessionOptions = {}): Promise<DbSession> => {
    const queryTimeoutMs = session.queryTimeoutMs;
    const client = await retry(() => newClient(purpose, queryTimeoutMs), {
      attempts: CONNECT_ATTEMPTS,
      baseDelayMs: 500,
      // A server without TLS asked for it (sslmode=require) will not grow TLS on a retry.
      retryable: (err) =>
        !PERMANENT.test(String((err as { code?: unknown }).code ?? '')) &&
        !NO_TLS.test(errorMessage(err)) &&
        !BAD_CERT.test(String((err as { code?: unknown }).code ?? '')),
      onRetry: (err, attempt, delay) =>
        options.onRetry?.(
          `cannot connect to ${where} yet (${clean(errorMessage(err))}); attempt ${attempt + 1} in ${delay} ms`,
        ),
    }).catch((err: unknown) => {
      throw new UserError(
        NO_TLS.test(errorMessage(err))
          ? `${from}: cannot connect to PostgreSQL at ${where}: the URL asks for TLS (sslmode) and the server does not offer it (expected a server with ssl = on, or an sslmode the server supports)`
          : `${from}: cannot connect to PostgreSQL at ${where}: ${clean(errorMessage(err)) || String((err as { code?: unknown }).code ?? 'connection failed')} (expected a server that accepts the connection)`,
      );
    });
    // A killed runner leaves its backend running a long statement; this makes PostgreSQL notice and roll it back.
    const checkConnection = () => client.query("SET client_connection_check_interval = '2s'").catch(() => undefined);
    await checkConnection();
    const pid = await backendPid(client);
    let stuck = false;
    const failed = (err: unknown): unknown => {
      // pg's own words for its query_timeout; say which connection went quiet, and how long we waited.
      if (queryTimeoutMs && err instanceof Error && /^Query read timeout$/.test(err.message)) {
        stuck = true;
        return new UserError(
          `PostgreSQL at ${where} did not answer the ${purpose} connection within ${duration(queryTimeoutMs)}; the network or the server is stuck`,
        );
      }
      return scrub(err, clean);
    };
    return {
      exec: async (sql) => {
        await client.query(sql).catch((err: unknown) => {
          throw failed(err);
        });
      },
      query: async <T>(sql: string, params?: unknown[]) => {
        try {
          return (await client.query(sql, params)).rows as T[];
        } catch (err) {
          throw failed(err);
        }
      },
      reset: async () => {
        await client.query(RESET_SESSION_SQL).catch((err: unknown) => {
          throw failed(err);
        });
        await checkConnection();
      },
      cancel: async () => {
        if (pid === undefined) return;
        await cancelBackend(pid).catch((err: unknown) => {
          throw scrub(err, clean);
        });
      },
      // A connection that stopped answering gets no goodbye: its socket is dropped at once.
      close: () => (stuck ? Promise.resolve(dropClient(client)) : closeClient(client)),
    };
  };

  // Fail on a bad URL or password now, with one clear line, rather than in the middle of a run.
  const probe = await connect('check');
  await probe.close();

  return {
    where,
    shared: true,
    connect,
    async backup(dir, label) {
      const file = path.join(dir, `${label}.dump`);
      // Created first, owner-only: pg_dump keeps the mode of a file that exists, so the dump is never readable by others.
      const handle = await open(file, 'w', 0o600);
      await handle.chmod(0o600);
      await handle.close();
      const noPassword = new URL(u.href);
      const password = decodeURIComponent(u.password);
      noPassword.password = '';
      const result = await execFile(
        'pg_dump',
        ['--format=custom', '--no-password', `--file=${file}`, `--dbname=${noPassword.href}`],
        { env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '10' }, timeoutMs: DUMP_TIMEOUT_MS },
      ).catch(async (err: unknown) => {
        await rm(file, { force: true });
        throw new UserError(`backup: pg_dump could not run: ${clean(errorMessage(err))}`);
      });
      if (result.code !== 0) {
        await rm(file, { force: true });
        const tail = clean(result.stderr.trim().split('\n').slice(-2).join(' | '));
        throw new UserError(`backup: pg_dump of ${where} failed (exit ${result.code}): ${tail}`);
      }
      return file;
    },
    close: async () => undefined,
  };
}

/** The server process behind a connection, for cancelling what it runs (undefined where a pooler hides it). */
async function backendPid(client: pg.Client): Promise<number | undefined> {
  const rows = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid').then(
    (r) => r.rows,
    () => [],
  );
  return rows[0]?.pid;
}

/** The sslmode values libpq knows, and pg's own no-verify. */
const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];

/**
 * The URL as pg must read it to mean what psql, pg_dump and every libpq client mean by the
 * same URL: `sslmode=require` encrypts without verifying the certificate (a managed
 * database's private CA), while pg alone would verify it as verify-full and refuse.
 */
function withLibpqSslMode(u: URL, from: string): string {
  const mode = u.searchParams.get('sslmode');
  if (mode === null) return u.href;
  if (!SSL_MODES.includes(mode))
    throw new UserError(
      `${from}: sslmode=${mode} is not a mode PostgreSQL knows (expected one of ${SSL_MODES.slice(0, 5).join(', ')})`,
    );
  if (mode === 'no-verify' || u.searchParams.has('uselibpqcompat')) return u.href;
  const compat = new URL(u.href);
  compat.searchParams.set('uselibpqcompat', 'true');
  return compat.href;
}

/** End the session politely, but never wait on a server that stopped answering. */
async function closeClient(client: pg.Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const ended = await Promise.race([
    client.end().then(
      () => true,
      () => true,
    ),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  if (!ended) dropClient(client);
}

function dropClient(client: pg.Client): void {
  // pg keeps its socket on a connection object its types do not declare.
  const connection = Reflect.get(client, 'connection') as { stream?: { destroy(): void } } | undefined;
  connection?.stream?.destroy();
}

/** The same error with every trace of the URL removed from its message and fields. */
function scrub(err: unknown, clean: (t: string) => string): unknown {
  if (err && typeof err === 'object') {
    const e = err as Record<string, unknown>;
    for (const k of ['message', 'detail', 'hint', 'where', 'stack'])
      if (typeof e[k] === 'string') e[k] = clean(e[k] as string);
  }
  return err;
}
