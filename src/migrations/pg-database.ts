/**
 * A PostgreSQL server through `pg`. The URL is a secret: it is validated without ever being
 * echoed, and every error leaving this module is stripped of it.
 */
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
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
    // The usual cause: a password holding @ : / # ? or % written as is (the URL breaks at it).
    throw new UserError(
      `${from}: expected a URL such as postgres://user:password@host:5432/database, got text that is not a URL${/^postgres(ql)?:\/\/[^/]*@/i.test(url.trim()) ? `; ${PERCENT_ENCODE_HINT}` : ''}`,
    );
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:')
    throw new UserError(
      `${from}: expected a postgres:// or postgresql:// URL, got a URL with scheme "${u.protocol.replace(/:$/, '')}"`,
    );
  if (!u.hostname && !u.searchParams.get('host'))
    throw new UserError(`${from}: the URL names no host (expected postgres://user:password@host:5432/database)`);
  // `postgres://app:12/x@host/db` parses, as host "app" and database "x@host/db": a password cut at its "/".
  if (!u.username && !u.password && /@/.test(u.pathname + u.hash))
    throw new UserError(
      `${from}: the URL has an @ after its host, so its credentials were not read as credentials; ${PERCENT_ENCODE_HINT}`,
    );
  return u;
}

/** What to do about a password that breaks the URL. */
const PERCENT_ENCODE_HINT =
  'if the password holds reserved characters (@ : / ? # % [ ] and spaces), percent-encode them in the URL (@ as %40, : as %3A, / as %2F, ? as %3F, # as %23, % as %25; encodeURIComponent does it)';

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
      // Any local user can read a process's command line (ps, /proc): its secrets go by environment or file.
      const file = path.join(dir, `${label}.dump`);
      // Created first, owner-only: pg_dump keeps the mode of a file that exists, so the dump is never readable by others.
      const handle = await open(file, 'w', 0o600);
      await handle.chmod(0o600);
      await handle.close();
      const conn = await libpqConnection(u, 'backup');
      const result = await execFile(
        'pg_dump',
        ['--format=custom', '--no-password', `--file=${file}`, `--dbname=${conn.dbname}`],
        { env: conn.env, timeoutMs: DUMP_TIMEOUT_MS },
      )
        .catch(async (err: unknown) => {
          await rm(file, { force: true });
          throw new UserError(`backup: pg_dump could not run: ${clean(errorMessage(err))}`);
        })
        .finally(conn.done);
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

/** A libpq program's connection (pg_dump, pg_restore): `--dbname`, its environment, and `done` to remove its service file. */
export interface LibpqConnection {
  dbname: string;
  env: NodeJS.ProcessEnv;
  done: () => Promise<void>;
}

/**
 * The connection of a libpq program to `u` with no secret on its command line (any local user
 * can read that through ps or /proc): see dumpConnection. `what` names the step in errors.
 */
export async function libpqConnection(u: URL, what: string): Promise<LibpqConnection> {
  const c = dumpConnection(u, what);
  const env: NodeJS.ProcessEnv = { ...process.env, PGPASSWORD: c.password, PGCONNECT_TIMEOUT: '10' };
  if (!c.service) return { dbname: c.dbname, env, done: async () => undefined };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'slipway-pg-service-'));
  env.PGSERVICEFILE = path.join(dir, 'pg_service.conf');
  env.PGSERVICE = 'slipway';
  await writeFile(env.PGSERVICEFILE, c.service, { mode: 0o600 });
  return { dbname: c.dbname, env, done: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * How pg_dump connects without a secret on its command line: the URL without its password
 * (in the userinfo or as `?password=`), which goes in PGPASSWORD, and without `sslpassword`
 * (libpq's other secret, which has no variable), which goes in an owner-only service file. As
 * `pg` and libpq both do, a password in the query wins over the one in the userinfo.
 */
function dumpConnection(u: URL, what: string): { dbname: string; password: string; service: string } {
  const bare = new URL(u.href);
  bare.password = '';
  const last = (name: string) => u.searchParams.getAll(name).at(-1) ?? '';
  const password = last('password') || decodeURIComponent(u.password);
  const sslpassword = last('sslpassword');
  // Filtered as written: URLSearchParams would re-encode the rest (a space as "+", which libpq keeps as "+").
  bare.search = bare.search
    .slice(1)
    .split('&')
    .filter((pair) => !['password', 'sslpassword'].includes(safeDecode(pair.split('=')[0])))
    .join('&');
  // libpq reads a service file's value to the end of its line, trailing blanks dropped.
  if (/[\r\n]|\s$/.test(sslpassword))
    throw new UserError(
      `${what}: the URL's sslpassword ends in a blank or holds a line break, so it cannot reach the PostgreSQL client by a service file (and never goes on its command line); put it in a service file of yours and name that with service= instead`,
    );
  if (sslpassword && u.searchParams.has('service'))
    throw new UserError(
      `${what}: the URL has both service= and sslpassword=; the PostgreSQL client gets sslpassword by a service file of its own (never on its command line), so put sslpassword in your service's definition instead`,
    );
  return {
    dbname: bare.href,
    password,
    service: sslpassword ? `[slipway]\nsslpassword=${sslpassword}\n` : '',
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
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
