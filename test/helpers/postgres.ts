/**
 * A real PostgreSQL server for tests: initdb and pg_ctl in a temporary folder on a free
 * port. As root the server runs as the `postgres` user, as PostgreSQL requires.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { killServer, trackServer, untrackServer } from './processes.js';

/** A running server. */
export interface TestPostgres {
  port: number;
  /** A connection URL for `database` (default postgres) as the superuser with a password. */
  url(database?: string): string;
  /** Create a fresh database and return its URL. */
  createDatabase(name?: string): string;
  stop(): void;
}

const PASSWORD = 's3cret-Pa55';

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function binDir(): string {
  for (const v of ['17', '16', '15', '14']) {
    const d = `/usr/lib/postgresql/${v}/bin`;
    if (existsSync(path.join(d, 'initdb'))) return d;
  }
  return '';
}

function pgUid(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

let dbCounter = 0;

/**
 * Start a server; call stop() in afterAll. Tests run it with fsync off (they never survive a
 * crash); `durable: true` keeps PostgreSQL's defaults, as a benchmark must.
 */
export async function startPostgres(options: { durable?: boolean; tls?: boolean } = {}): Promise<TestPostgres> {
  const bin = binDir();
  const tool = (name: string) => (bin ? path.join(bin, name) : name);
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-pg-'));
  chmodSync(dir, 0o777);
  const data = path.join(dir, 'data');
  const pwfile = path.join(dir, 'pw');
  execFileSync('sh', ['-c', 'printf %s "$1" > "$2"', 'sh', PASSWORD, pwfile]);
  const owner = pgUid();
  if (owner) chownSync(pwfile, owner.uid, owner.gid);
  const asPg = (cmd: string, args: string[]) =>
    execFileSync(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
      env: { ...process.env, LC_ALL: 'C' },
    });
  asPg(tool('initdb'), ['-D', data, '-U', 'postgres', '--pwfile', pwfile, '-A', 'md5', '--no-sync', '-E', 'UTF8']);
  if (options.tls) {
    // A self-signed certificate, as a managed database's private CA looks to a client that has not got it.
    const key = path.join(data, 'server.key');
    const crt = path.join(data, 'server.crt');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=db.internal',
        '-keyout',
        key,
        '-out',
        crt,
      ],
      { stdio: 'ignore' },
    );
    chmodSync(key, 0o600);
    if (owner) for (const f of [key, crt]) chownSync(f, owner.uid, owner.gid);
  }
  const port = await freePort();
  asPg(tool('pg_ctl'), [
    '-D',
    data,
    '-l',
    path.join(dir, 'log'),
    '-w',
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200${options.tls ? ' -c ssl=on' : ''}${options.durable ? '' : ' -c fsync=off -c synchronous_commit=off -c full_page_writes=off'}`,
    'start',
  ]);
  const postmaster = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  trackServer(postmaster, `PostgreSQL on port ${port}`);
  const url = (db = 'postgres') => `postgres://postgres:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/${db}`;
  return {
    port,
    url,
    createDatabase(name = `test_${process.pid}_${++dbCounter}`) {
      execFileSync('psql', [url(), '-q', '-c', `CREATE DATABASE "${name}"`], { stdio: 'ignore' });
      return url(name);
    },
    stop() {
      try {
        asPg(tool('pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
        untrackServer(postmaster);
      } catch {
        killServer(postmaster);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The password the test server uses, to assert it never leaks. */
export const TEST_PG_PASSWORD = PASSWORD;
