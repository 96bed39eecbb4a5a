/**
 * What a real PostgreSQL 15 showed about the migrate action: a role that owns the history
 * table but may not create in its schema, a password given as `?password=` (pg_dump's command
 * line, the masker), a password that breaks the URL, a search_path naming no schema, and what
 * the outputs and the job summary say when a migration fails or the lock is not taken.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { ActionDefinition, InputFields } from '../../src/core/inputs.js';
import { isUserError } from '../../src/core/errors.js';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { lockKey } from '../../src/migrations/lock.js';
import { migrate as migrateAction } from '../../src/migrations/migrate.js';
import { invokeActionSettled } from '../../src/pipeline/invoke.js';
import { startPostgres, TEST_PG_PASSWORD, type TestPostgres } from '../helpers/postgres.js';
import { cleanRepos, migrateAs, migrationsRepo, sql } from '../helpers/migrate-repo.js';

/** The built-in runner as run 91. */
const migrate = migrateAs('91');
let server: TestPostgres;
const dirs: string[] = [];
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(() => server?.stop());
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
  cleanRepos();
});

/** The migrate action itself (inputs as INPUT_*), keeping the outputs it set before a failure. */
async function action(cwd: string, url: string, inputs: Record<string, string> = {}) {
  const rt = createMemoryRuntime({ cwd, env: { GITHUB_RUN_ID: '92', PATH: process.env.PATH } });
  const settled = await invokeActionSettled(
    migrateAction as unknown as ActionDefinition<InputFields>,
    { 'database-url': url, ...inputs },
    rt,
  );
  return { ...settled, rt, summary: rt.summaries.join('\n') };
}

/** `url` logged in as `role` (password `pw-<role>`). */
function as(url: string, role: string): string {
  const u = new URL(url);
  u.username = role;
  u.password = `pw-${role}`;
  return u.href;
}

describe('a role without CREATE on the schema', () => {
  it('migrates with the history table it owns, whether something is pending or not', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({ '1_items.sql': 'CREATE TABLE items (id int);\n' });
    expect((await migrate(dir, url)).error).toBeUndefined();
    // PostgreSQL 15: public grants CREATE to no one; the role owns what it migrates, nothing more.
    await sql(
      url,
      "CREATE ROLE rr_owner LOGIN PASSWORD 'pw-rr_owner'; ALTER TABLE slipway_migrations OWNER TO rr_owner; ALTER TABLE items OWNER TO rr_owner",
    );
    expect(await sql(url, "SELECT has_schema_privilege('rr_owner', 'public', 'CREATE') AS c")).toEqual([{ c: false }]);
    const nothing = await migrate(dir, as(url, 'rr_owner'));
    expect(nothing.error?.message).toBeUndefined();
    expect(nothing.result?.current).toBe('1');

    writeFileSync(path.join(dir, 'migrations/2_fill.sql'), 'INSERT INTO items VALUES (1);\n');
    const pending = await migrate(dir, as(url, 'rr_owner'));
    expect(pending.error?.message).toBeUndefined();
    expect(pending.result?.applied.map((a) => a.file)).toEqual(['migrations/2_fill.sql']);
    expect(await sql(url, 'SELECT version::text AS v, applied_by FROM slipway_migrations ORDER BY 1')).toEqual([
      { v: '1', applied_by: 'run 91' },
      { v: '2', applied_by: 'run 91' },
    ]);
  });

  it('when the table must be created and cannot be, names the role, the schema and the GRANT', async () => {
    const url = server.createDatabase();
    await sql(url, "CREATE ROLE rr_new LOGIN PASSWORD 'pw-rr_new'");
    const dir = migrationsRepo({ '1_a.sql': 'SELECT 1;\n' });
    const { error } = await migrate(dir, as(url, 'rr_new'));
    expect(isUserError(error)).toBe(true);
    expect(error?.message).toBe(
      'cannot create the history table public.slipway_migrations: the role rr_new lacks CREATE on schema public, which creating it needs (it does not exist yet); grant it (GRANT CREATE ON SCHEMA public TO rr_new), or create it once as a role that may and make rr_new its owner (ALTER TABLE public.slipway_migrations OWNER TO rr_new), or set "table" to schema.name in a schema rr_new may create in',
    );
    // A missing schema needs CREATE on the database: that is the right named then.
    const db = new URL(url).pathname.slice(1);
    const { error: noSchema } = await migrate(dir, as(url, 'rr_new'), { table: 'ops.migrations' });
    expect(noSchema?.message).toBe(
      `cannot create the history table ops.migrations: the role rr_new lacks CREATE on database ${db}, which creating it needs (it does not exist yet); grant it (GRANT CREATE ON DATABASE ${db} TO rr_new), or create the schema first (CREATE SCHEMA ops AUTHORIZATION rr_new)`,
    );
  });
  it('a no-transaction migration by a role that owns the history but may not create the marks table: one line, nothing run', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({ '1_items.sql': 'CREATE TABLE items (id int);\n' });
    expect((await migrate(dir, url)).error).toBeUndefined();
    await sql(
      url,
      "CREATE ROLE rr_nt LOGIN PASSWORD 'pw-rr_nt'; ALTER TABLE slipway_migrations OWNER TO rr_nt; ALTER TABLE items OWNER TO rr_nt",
    );
    writeFileSync(
      path.join(dir, 'migrations/2_fill.sql'),
      '-- slipway:no-transaction\nINSERT INTO items VALUES (1);\n',
    );
    const run = await action(dir, as(url, 'rr_nt'));
    expect(isUserError(run.error)).toBe(true);
    expect((run.error as Error | undefined)?.message).toMatch(
      /cannot create the no-transaction marks table public\.slipway_migrations_started: the role rr_nt lacks CREATE on schema public, .*\(GRANT CREATE ON SCHEMA public TO rr_nt\), or create it once as a role that may and make rr_nt its owner \(ALTER TABLE public\.slipway_migrations_started OWNER TO rr_nt\)/,
    );
    expect(run.rt.text()).not.toContain('internal error');
    // Refused before its first statement: nothing of it ran, and the outputs say where it stands.
    expect(await sql(url, 'SELECT count(*)::int AS n FROM items')).toEqual([{ n: 0 }]);
    expect(run.outputs.pending).toBe('1');
    expect(run.outputs.current).toBe('1');
  });
});

describe('a password given as ?password= in the URL', () => {
  it('reaches pg_dump through PGPASSWORD (and sslpassword through a service file), never its command line; both are masked on their own', async () => {
    const url = server.createDatabase();
    const u = new URL(url);
    u.password = '';
    const sslSecret = 'k3y-Pass.phrase';
    const queryUrl = `${u.href}?password=${encodeURIComponent(TEST_PG_PASSWORD)}&sslpassword=${sslSecret}&sslmode=disable`;
    const dir = migrationsRepo({ '1_a.sql': 'CREATE TABLE a (id int);\n' });
    // A pg_dump first on PATH that records what it was given, then runs the real one.
    const bin = mkdtempSync(path.join(tmpdir(), 'slipway-fake-bin-'));
    dirs.push(bin);
    const record = path.join(bin, 'record');
    const real = execFileSync('sh', ['-c', 'command -v pg_dump'], { encoding: 'utf8' }).trim();
    writeFileSync(
      path.join(bin, 'pg_dump'),
      `#!/bin/sh\n{ for a in "$@"; do printf 'arg %s\\n' "$a"; done; printf 'PGPASSWORD=%s\\n' "$PGPASSWORD"; printf 'PGSERVICE=%s\\n' "$PGSERVICE"; [ -n "$PGSERVICEFILE" ] && ls -l "$PGSERVICEFILE" | cut -c1-10 && cat "$PGSERVICEFILE"; } > "${record}"\nexec "${real}" "$@"\n`,
    );
    chmodSync(path.join(bin, 'pg_dump'), 0o755);
    const savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${savedPath}`;
    let run: Awaited<ReturnType<typeof migrate>>;
    try {
      run = await migrate(dir, queryUrl, { backup: true, backupDir: path.join(dir, 'backups') });
    } finally {
      process.env.PATH = savedPath;
    }
    expect(run.error?.message).toBeUndefined();
    const seen = readFileSync(record, 'utf8').split('\n');
    const args = seen.filter((l) => l.startsWith('arg '));
    expect(args.join('\n')).not.toContain(TEST_PG_PASSWORD);
    expect(args.join('\n')).not.toContain(encodeURIComponent(TEST_PG_PASSWORD));
    expect(args.join('\n')).not.toContain(sslSecret);
    expect(args).toContain(`arg --dbname=${u.href}?sslmode=disable`);
    expect(seen).toContain(`PGPASSWORD=${TEST_PG_PASSWORD}`);
    // libpq has no variable for sslpassword: an owner-only service file, gone after the dump.
    expect(seen).toEqual(
      expect.arrayContaining(['PGSERVICE=slipway', '-rw-------', '[slipway]', `sslpassword=${sslSecret}`]),
    );
    expect(run.result?.backup).toMatch(/\.dump$/);
    expect(readFileSync(run.result!.backup).subarray(0, 5).toString()).toBe('PGDMP');
    // Masked as a value on its own, not only inside the whole URL.
    expect(run.rt.redact(`password ${TEST_PG_PASSWORD} and ${sslSecret}`)).toBe('password *** and ***');
  });

  it('a password that breaks the URL gets the advice to percent-encode it', async () => {
    const dir = migrationsRepo({ '1_a.sql': 'SELECT 1;\n' });
    for (const url of ['postgres://app:p@ss:w/rd#?%x@host/db', 'postgres://app:12/rd@host/db']) {
      const { error, rt } = await migrate(dir, url);
      expect(isUserError(error)).toBe(true);
      expect(error?.message).toMatch(
        /^input "database-url": .*; if the password holds reserved characters \(@ : \/ \? # % \[ \] and spaces\), percent-encode them in the URL \(@ as %40, : as %3A, \/ as %2F, \? as %3F, # as %23, % as %25; encodeURIComponent does it\)$/,
      );
      expect(error?.message).not.toContain('p@ss');
      expect(error?.message).not.toContain('12/rd');
      expect(rt.text()).not.toContain('p@ss');
    }
  });
});

describe('a search_path that names no schema', () => {
  it('is refused up front in one line naming it, and no history table is created elsewhere', async () => {
    const url = server.createDatabase();
    const db = new URL(url).pathname.slice(1);
    const role = new URL(url).username;
    const dir = migrationsRepo({ '1_a.sql': 'CREATE TABLE a (id int);\n' });
    const { error } = await migrate(dir, `${url}?options=${encodeURIComponent('-c search_path=app')}`);
    expect(isUserError(error)).toBe(true);
    expect(error?.message).toBe(
      `no schema on the search_path (app) exists in database ${db} for this role (missing, or without USAGE), so the history table slipway_migrations and the migrations have no schema to go in; create it first (CREATE SCHEMA app AUTHORIZATION ${role}), or take it out of the URL's search_path (migrations that name no schema need one there)`,
    );
    expect(await sql(url, "SELECT schemaname, tablename FROM pg_tables WHERE tablename LIKE 'slipway%'")).toEqual([]);
    // Named with its schema, the history goes there whatever the search_path.
    const named = await migrate(dir, `${url}?options=${encodeURIComponent('-c search_path=app')}`, {
      table: 'public.slipway_migrations',
      dryRun: true,
    });
    expect(named.error?.message).toBeUndefined();
  });
});

describe('the summary and outputs of a run that did not finish', () => {
  /** The rows of the summary's migrations table: "| migration | state". */
  const rowsOf = (summary: string) => {
    const lines = summary.split('\n');
    const start = lines.indexOf('| migration | state | duration |');
    const rows: string[] = [];
    for (const l of lines.slice(start + 2)) {
      if (!l.startsWith('|')) break;
      rows.push(l.split(' | ').slice(0, 2).join(' | '));
    }
    return start < 0 ? [] : rows;
  };

  it('lists the failed migration and the pending ones on an empty database, never "No migrations."', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({
      '1_bad.sql': 'CREATE TABLE s1 (id int);\nSELECT 1/0;\n',
      '2_ok.sql': 'CREATE TABLE s2 (id int);\n',
    });
    const { outputs, error, summary } = await action(dir, url);
    expect((error as Error).message).toMatch(/^migrations\/1_bad\.sql:2: migration failed: division by zero/);
    expect(outputs).toMatchObject({ applied: '[]', pending: '2', current: '' });
    expect(summary).not.toContain('No migrations.');
    expect(rowsOf(summary)).toEqual(['| `migrations/1_bad.sql` | failed', '| `migrations/2_ok.sql` | pending']);
    expect(summary).toContain('**Failed:** migrations/1_bad.sql:2: migration failed: division by zero');
  });

  it('a failed revert is one row, and after resolving it the table lists what the history says now', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({
      '1_a.sql': 'CREATE TABLE a (id int);\n',
      '2_nt.sql': '-- slipway:no-transaction\nCREATE TABLE t2 (id int);\n',
      '2_nt.down.sql': '-- slipway:no-transaction\nDROP TABLE t2;\nSELECT 1/0;\n',
    });
    expect((await migrate(dir, url)).error).toBeUndefined();
    const down = await action(dir, url, { target: '1', 'allow-destructive': 'true' });
    expect((down.error as Error).message).toMatch(/down migration failed: division by zero/);
    expect(rowsOf(down.summary)).toEqual([
      '| 1_a | applied before (run 91)',
      '| `migrations/2_nt.down.sql` | failed (revert)',
    ]);

    const resolved = await action(dir, url, { resolve: '2 pending' });
    expect(resolved.error).toBeUndefined();
    expect(resolved.outputs).toMatchObject({ pending: '1', current: '1' });
    expect(resolved.summary).toContain('version **1**');
    expect(rowsOf(resolved.summary)).toEqual(['| 1_a | applied before (run 91)']);
  });

  it('after earlier migrations: the applied ones, then the failed one and what it left pending', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({ '1_a.sql': 'CREATE TABLE a (id int);\n' });
    expect((await migrate(dir, url)).error).toBeUndefined();
    writeFileSync(path.join(dir, 'migrations/2_b.sql'), 'CREATE TABLE b (id int);\n');
    writeFileSync(path.join(dir, 'migrations/3_bad.sql'), 'INSERT INTO nowhere VALUES (1);\n');
    writeFileSync(path.join(dir, 'migrations/4_c.sql'), 'CREATE TABLE c (id int);\n');
    writeFileSync(path.join(dir, 'migrations/5_d.sql'), 'CREATE TABLE d (id int);\n');
    const { outputs, summary } = await action(dir, url, { target: '4' });
    expect(outputs).toMatchObject({ pending: '3', current: '2' });
    expect(rowsOf(summary)).toEqual([
      '| 1_a | applied before (run 91)',
      '| `migrations/2_b.sql` | applied',
      '| `migrations/3_bad.sql` | failed',
      '| `migrations/4_c.sql` | pending',
      '| `migrations/5_d.sql` | pending (beyond the target)',
    ]);
  });

  it('a lock not taken within lock-timeout still sets applied, findings and backup, and says why in the summary', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({ '1_a.sql': 'CREATE TABLE a (id int);\n' });
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1, $2)', [0x534c4950, lockKey('public.slipway_migrations')]);
      const { outputs, error, summary } = await action(dir, url, { 'lock-timeout': '1' });
      expect((error as Error).message).toMatch(/^another migration run holds the lock on slipway_migrations \(/);
      expect(outputs).toEqual({ applied: '[]', backup: '', 'backup-location': '', findings: '[]' });
      expect(summary).toContain('## Migrations (not run: the lock was not taken)');
      expect(summary).toContain('Nothing was applied.');
    } finally {
      await holder.end();
    }
  });

  it('a refusal before the first migration (a missing right, a search_path) says in outputs and summary that nothing was applied', async () => {
    const url = server.createDatabase();
    await sql(url, "CREATE ROLE rr_report LOGIN PASSWORD 'pw-rr_report'");
    const dir = migrationsRepo({ '1_a.sql': 'CREATE TABLE a (id int);\n' });
    const rights = await action(dir, as(url, 'rr_report'));
    expect((rights.error as Error).message).toMatch(
      /^cannot create the history table public\.slipway_migrations: the role rr_report lacks CREATE/,
    );
    expect(rights.outputs).toEqual({ applied: '[]', backup: '', 'backup-location': '', findings: '[]' });
    expect(rights.summary).toContain('## Migrations (not run: refused)');
    expect(rights.summary).toContain((rights.error as Error).message);
    expect(rights.summary).toContain('Nothing was applied.');
    expect(rights.summary).not.toContain('pw-rr_report');

    const path_ = await action(dir, `${url}?options=${encodeURIComponent('-c search_path=app')}`);
    expect((path_.error as Error).message).toMatch(/^no schema on the search_path \(app\)/);
    expect(path_.outputs).toEqual({ applied: '[]', backup: '', 'backup-location': '', findings: '[]' });
    expect(path_.summary).toContain('## Migrations (not run: refused)');
  });

  it('the project’s own tool failing claims nothing about what it applied', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({ '1_a.sql': 'SELECT 1;\n' });
    const { outputs, error, summary } = await action(dir, url, { tool: 'command', command: 'exit 3' });
    expect((error as Error).message).toMatch(/exit|3/);
    expect(outputs.applied).toBeUndefined();
    expect(summary).not.toContain('Nothing was applied');
  });
});
