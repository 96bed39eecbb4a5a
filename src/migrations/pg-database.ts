/**
 * A PostgreSQL server through `pg`. The URL is a secret: it is validated without ever being
 * echoed, and every error leaving this module is stripped of it.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { errorMessage, UserError } from '../core/errors.js';
import { execFile } from '../core/exec.js';
import { retry } from '../core/retry.js';
import { redactUrlPasswords } from '../core/secrets.js';
import type { Database, DbSession } from './database.js';

/** How long a connection attempt may take, and how many attempts a transient failure gets. */
const CONNECT_TIMEOUT_MS = 10_000;
const CONNECT_ATTEMPTS = 3;
/** pg_dump of a large database can take a while, but not forever. */
const DUMP_TIMEOUT_MS = 60 * 60_000;

/** The parts of a connection URL, checked; throws a UserError naming `inputName` that never shows the URL. */
export function parseDatabaseUrl(url: string, inputName = 'database-url'): URL {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new UserError(
      `input "${inputName}": expected a URL such as postgres://user:password@host:5432/database, got text that is not a URL`,
    );
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:')
    throw new UserError(
      `input "${inputName}": expected a postgres:// or postgresql:// URL, got a URL with scheme "${u.protocol.replace(/:$/, '')}"`,
    );
  if (!u.hostname && !u.searchParams.get('host'))
    throw new UserError(
      `input "${inputName}": the URL names no host (expected postgres://user:password@host:5432/database)`,
    );
  return u;
}

/** `host:port/database` of a checked URL. */
export function describeUrl(u: URL): string {
  const host = u.hostname || u.searchParams.get('host') || 'localhost';
  return `${host}:${u.port || '5432'}/${decodeURIComponent(u.pathname.slice(1)) || decodeURIComponent(u.username) || 'postgres'}`;
}

// Auth, unknown database or role, bad parameters: retrying cannot help.
const PERMANENT = /^(28|3D|08P01|42)/;

/** Open a server database; the connection is checked (with bounded retries) before it is returned. */
export async function openServerDatabase(
  url: string,
  options: { applicationName?: string; onRetry?: (message: string) => void } = {},
): Promise<Database> {
  const u = parseDatabaseUrl(url);
  const where = describeUrl(u);
  const clean = (text: string) => redactUrlPasswords(text.split(url).join('***'));
  const appName = (purpose: string) => `${options.applicationName ?? 'slipway migrate'} ${purpose}`.slice(0, 63);

  const connect = async (purpose: string): Promise<DbSession> => {
    const client = await retry(
      async () => {
        const c = new pg.Client({
          connectionString: url,
          connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
          application_name: appName(purpose),
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
      },
      {
        attempts: CONNECT_ATTEMPTS,
        baseDelayMs: 500,
        retryable: (err) => !PERMANENT.test(String((err as { code?: unknown }).code ?? '')),
        onRetry: (err, attempt, delay) =>
          options.onRetry?.(
            `cannot connect to ${where} yet (${clean(errorMessage(err))}); attempt ${attempt + 1} in ${delay} ms`,
          ),
      },
    ).catch((err: unknown) => {
      throw new UserError(
        `cannot connect to PostgreSQL at ${where}: ${clean(errorMessage(err)) || String((err as { code?: unknown }).code ?? 'connection failed')}`,
      );
    });
    // A killed runner leaves its backend running a long statement; this makes PostgreSQL notice and roll it back.
    await client.query("SET client_connection_check_interval = '2s'").catch(() => undefined);
    return {
      exec: async (sql) => {
        await client.query(sql).catch((err: unknown) => {
          throw scrub(err, clean);
        });
      },
      query: async <T>(sql: string, params?: unknown[]) => {
        try {
          return (await client.query(sql, params)).rows as T[];
        } catch (err) {
          throw scrub(err, clean);
        }
      },
      close: () => client.end().catch(() => undefined),
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
      await mkdir(dir, { recursive: true });
      const file = path.join(dir, `${label}.dump`);
      const noPassword = new URL(u.href);
      const password = decodeURIComponent(u.password);
      noPassword.password = '';
      const result = await execFile(
        'pg_dump',
        ['--format=custom', '--no-password', `--file=${file}`, `--dbname=${noPassword.href}`],
        { env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '10' }, timeoutMs: DUMP_TIMEOUT_MS },
      ).catch((err: unknown) => {
        throw new UserError(`backup: pg_dump could not run: ${clean(errorMessage(err))}`);
      });
      if (result.code !== 0) {
        const tail = clean(result.stderr.trim().split('\n').slice(-2).join(' | '));
        throw new UserError(`backup: pg_dump of ${where} failed (exit ${result.code}): ${tail}`);
      }
      return file;
    },
    close: async () => undefined,
  };
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
