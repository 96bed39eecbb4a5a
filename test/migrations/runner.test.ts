/** The built-in runner against a real PostgreSQL server: every rule of the migrate issue. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import pg from 'pg';
import type { ActionDefinition, InputFields } from '../../src/core/inputs.js';
import { isUserError } from '../../src/core/errors.js';
import { loadConfig } from '../../src/core/config.js';
import { migrationsStep } from '../../src/deploy/migrate-step.js';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { lockKey } from '../../src/migrations/lock.js';
import { migrate as migrateAction } from '../../src/migrations/migrate.js';
import { invokeActionSettled } from '../../src/pipeline/invoke.js';
import { startPostgres, TEST_PG_PASSWORD, type TestPostgres } from '../helpers/postgres.js';
import { cleanRepos, migrateAs, migrationsRepo, sql } from '../helpers/migrate-repo.js';

/** The built-in runner as run 77. */
const migrate = migrateAs('77');
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

function write(dir: string, name: string, sql: string): void {
  writeFileSync(path.join(dir, 'migrations', name), sql);
}

const tables = async (url: string) =>
  (await sql<{ t: string }>(url, "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).map(
    (r) => r.t,
  );

describe('applying', () => {
  it('a role that may not create the history table gets one line saying so, not an internal error', async () => {
    const url = server.createDatabase();
    // PostgreSQL 15: only the database owner may create in public.
    await sql(url, "DROP ROLE IF EXISTS slipway_ro; CREATE ROLE slipway_ro LOGIN PASSWORD 'ro'");
    const u = new URL(url);
    u.username = 'slipway_ro';
    u.password = 'ro';
    const dir = migrationsRepo({ '1_a.sql': 'CREATE TABLE a (id int);\n' });
    const { error } = await migrate(dir, u.href);
    expect(isUserError(error)).toBe(true);
    expect(error?.message).toBe(
      'cannot create the history table public.slipway_migrations: the role slipway_ro lacks CREATE on schema public, which creating it needs (it does not exist yet); grant it (GRANT CREATE ON SCHEMA public TO slipway_ro), or create it once as a role that may and make slipway_ro its owner (ALTER TABLE public.slipway_migrations OWNER TO slipway_ro), or set "table" to schema.name in a schema slipway_ro may create in',
    );
  });

  it('applies in numeric order, each recorded with its checksum, duration and run; a second run finds nothing', async () => {
    const url = server.createDatabase();
    const ten = 'ALTER TABLE a ADD COLUMN note text;\n';
    const dir = migrationsRepo({
      '10_add_note.sql': ten,
      '2_create_a.sql': 'CREATE TABLE a (id int PRIMARY KEY);\n-- a trailing comment without a newline',
      'README.md': 'not a migration',
    });
    const { result, error, rt } = await migrate(dir, url);
    expect(error).toBeUndefined();
    expect(result!.applied.map((a) => a.file)).toEqual(['migrations/2_create_a.sql', 'migrations/10_add_note.sql']);
    expect(result!.current).toBe('10');
    expect(result!.pending).toBe(0);
    const rows = await sql<{
      version: string;
      name: string;
      checksum: string;
      duration_ms: number;
      applied_by: string;
    }>(
      url,
      'SELECT version::text, name, checksum, duration_ms, applied_by FROM slipway_migrations ORDER BY slipway_migrations.version',
    );
    expect(rows.map((r) => [r.version, r.name, r.applied_by])).toEqual([
      ['2', 'create_a', 'run 77'],
      ['10', 'add_note', 'run 77'],
    ]);
    expect(rows[1].checksum).toBe(createHash('sha256').update(ten).digest('hex'));
    expect(rows.every((r) => r.duration_ms >= 0)).toBe(true);
    expect(rt.text()).not.toContain(TEST_PG_PASSWORD);

    const again = await migrate(dir, url);
    expect(again.result!.applied).toEqual([]);
    expect(again.result!.current).toBe('10');
    expect(again.rt.text()).toContain('Nothing to migrate');
  });

  it("one migration's session settings never reach the next: each starts as the connection did", async () => {
    const url = server.createDatabase();
    await sql(url, 'CREATE SCHEMA other; CREATE ROLE slipway_other NOLOGIN');
    const dir = migrationsRepo({
      // A SET outside SET LOCAL lasts for the session; a second file must not inherit it.
      '1_move.sql': "SET search_path = other; CREATE TABLE t1 (id int); SET lock_timeout = '1ms';\n",
      '2_plain.sql':
        "CREATE TEMP TABLE scratch (id int); CREATE TABLE t2 AS SELECT current_setting('lock_timeout') AS lock_timeout;\n",
      '3_temp.sql': "SELECT set_config('search_path', '', false); CREATE TABLE public.t3 (id int);\n",
      '4_again.sql': 'CREATE TEMP TABLE scratch (id int); CREATE TABLE t4 (id int);\n',
    });
    const { error, result } = await migrate(dir, url);
    expect(error).toBeUndefined();
    expect(result!.applied).toHaveLength(4);
    const where = await sql<{ s: string; t: string }>(
      url,
      "SELECT schemaname AS s, tablename AS t FROM pg_tables WHERE tablename LIKE 't_' ORDER BY 2",
    );
    expect(where.map((r) => `${r.s}.${r.t}`)).toEqual(['other.t1', 'public.t2', 'public.t3', 'public.t4']);
    const recorded = await sql<{ v: string }>(
      url,
      'SELECT version::text AS v FROM public.slipway_migrations ORDER BY 1',
    );
    expect(recorded.map((r) => r.v)).toEqual(['1', '2', '3', '4']);
    expect(await sql(url, 'SELECT lock_timeout FROM public.t2')).toEqual([{ lock_timeout: '0' }]);
  });

  it('runs a -- slipway:no-transaction file outside a transaction: CREATE INDEX CONCURRENTLY under the lock', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({
      '1_orders.sql':
        'CREATE TABLE orders (id int, customer text);\nINSERT INTO orders SELECT g, g::text FROM generate_series(1, 1000) g;\n',
      '2_index.sql': '-- slipway:no-transaction\nCREATE INDEX CONCURRENTLY orders_customer ON orders (customer);\n',
    });
    const { result, error, rt } = await migrate(dir, url);
    expect(error).toBeUndefined();
    expect(result!.applied.map((a) => a.transaction)).toEqual([true, false]);
    expect(rt.text()).toMatch(/2_index\.sql runs outside a transaction/);
    const idx = await sql<{ valid: boolean }>(
      url,
      "SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = 'orders_customer'::regclass",
    );
    expect(idx).toEqual([{ valid: true }]);
    expect(result!.findings).toEqual([]);
  });

  it('refuses CREATE INDEX CONCURRENTLY and COMMIT in a transactional file, before applying anything', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({
      '1_t.sql': 'CREATE TABLE t (id int);\n',
      '2_idx.sql': 'SELECT 1;\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n',
    });
    const { error } = await migrate(dir, url);
    expect(error?.message).toMatch(
      /^migrations\/2_idx\.sql:2: CREATE INDEX CONCURRENTLY .*cannot run inside a transaction.*no-transaction/,
    );
    expect(await tables(url)).toEqual(['slipway_migrations']);
    write(dir, '2_idx.sql', 'INSERT INTO t VALUES (1);\nCOMMIT;\n');
    const second = await migrate(dir, url);
    expect(second.error?.message).toMatch(/^migrations\/2_idx\.sql:2: COMMIT would end the transaction/);
  });
});

describe('drift and order', () => {
  it('fails before applying anything when an applied file changed or disappeared, naming it', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({ '1_a.sql': 'CREATE TABLE a (id int);\n', '2_b.sql': 'CREATE TABLE b (id int);\n' });
    expect((await migrate(dir, url)).error).toBeUndefined();
    write(dir, '1_a.sql', 'CREATE TABLE a (id bigint);\n');
    write(dir, '3_c.sql', 'CREATE TABLE c (id int);\n');
    const changed = await migrate(dir, url);
    expect(isUserError(changed.error)).toBe(true);
    expect(changed.error!.message).toMatch(
      /^migration drift: migrations\/1_a\.sql changed after it was applied .* by run 77/,
    );
    expect(await tables(url)).not.toContain('c');

    write(dir, '1_a.sql', 'CREATE TABLE a (id int);\n');
    unlinkSync(path.join(dir, 'migrations', '2_b.sql'));
    const missing = await migrate(dir, url);
    expect(missing.error!.message).toMatch(/migrations\/2_b\.sql was applied .* but is no longer in migrations/);
    expect(await tables(url)).not.toContain('c');
  });

  it('refuses a new migration numbered below the last applied one unless out-of-order', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({ '1_a.sql': 'CREATE TABLE a (id int);\n', '5_e.sql': 'CREATE TABLE e (id int);\n' });
    await migrate(dir, url);
    write(dir, '3_c.sql', 'CREATE TABLE c (id int);\n');
    const refused = await migrate(dir, url);
    expect(refused.error!.message).toMatch(
      /^migrations\/3_c\.sql: numbered below the last applied migration \(5\).*out-of-order: true/,
    );
    const allowed = await migrate(dir, url, { outOfOrder: true });
    expect(allowed.result!.applied.map((a) => a.version)).toEqual(['3']);
    expect(allowed.result!.current).toBe('5');
  });
});

describe('failures', () => {
  it('rolls back the failing migration and names the file, the statement line and PostgreSQL message; nothing after it runs', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({
      '1_ok.sql': 'CREATE TABLE ok (id int);\n',
      '2_bad.sql': 'CREATE TABLE half (id int);\n\n-- the next one is wrong\nINSERT INTO half\n  VALUES (1, 2, 3);\n',
      '3_after.sql': 'CREATE TABLE after_bad (id int);\n',
    });
    const { error, result } = await migrate(dir, url);
    expect(result).toBeUndefined();
    expect(isUserError(error)).toBe(true);
    expect(error!.message).toMatch(
      /^migrations\/2_bad\.sql:5: migration failed: INSERT has more expressions than target columns \(SQLSTATE 42601\).*rolled back; nothing after it ran/,
    );
    expect((error as { location?: unknown }).location).toEqual({ file: 'migrations/2_bad.sql', line: 5 });
    expect(await tables(url)).toEqual(['ok', 'slipway_migrations']);
    const versions = await sql<{ v: string }>(url, 'SELECT version::text AS v FROM slipway_migrations');
    expect(versions).toEqual([{ v: '1' }]);
  });

  it('finds the line of a run-time error that PostgreSQL reports without a position', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({
      '1_div.sql': 'CREATE TABLE n (v int);\nINSERT INTO n VALUES (1);\nSELECT 1 / (v - 1) FROM n;\n',
    });
    const { error } = await migrate(dir, url);
    expect(error!.message).toMatch(/^migrations\/1_div\.sql:3: migration failed: division by zero \(SQLSTATE 22012\)/);
    expect(await tables(url)).toEqual(['slipway_migrations']);
  });

  it('names a quote left open in a file', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({ '1_open.sql': "CREATE TABLE q (v text);\nINSERT INTO q VALUES ('oops);\n" });
    const { error } = await migrate(dir, url);
    expect(error!.message).toBe('migrations/1_open.sql:2: a quoted string is never closed');
  });
});

describe('lint', () => {
  it('stops destructive statements on existing tables unless allowed, with file and line annotations', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({ '1_users.sql': 'CREATE TABLE users (id int, email text, legacy text);\n' });
    await migrate(dir, url);
    write(dir, '2_cleanup.sql', '-- remove the legacy column\nALTER TABLE users\n  DROP COLUMN legacy;\n');
    const stopped = await migrate(dir, url);
    expect(stopped.error!.message).toMatch(
      /^migrations\/2_cleanup\.sql:2: 1 destructive statement would break the running version \(drop-column\); nothing was applied/,
    );
    const annotation = stopped.rt.records.find((r) => r.level === 'error' && r.annotation);
    expect(annotation?.annotation).toMatchObject({ file: 'migrations/2_cleanup.sql', line: 2 });
    const cols = await sql(
      url,
      "SELECT 1 FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'legacy'",
    );
    expect(cols).toHaveLength(1);

    const allowed = await migrate(dir, url, { allowDestructive: true });
    expect(allowed.error).toBeUndefined();
    expect(allowed.result!.destructiveApplied).toBe(true);
    expect(allowed.result!.findings).toEqual([
      expect.objectContaining({
        file: 'migrations/2_cleanup.sql',
        line: 2,
        rule: 'drop-column',
        destructive: true,
        breaking: true,
      }),
    ]);
  });

  it('reports non-destructive breaking changes and applies them; a table created in the same run is exempt', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({ '1_users.sql': 'CREATE TABLE users (id int, name text);\n' });
    await migrate(dir, url);
    write(
      dir,
      '2_changes.sql',
      [
        'CREATE TABLE fresh (id int);',
        'CREATE INDEX fresh_id ON fresh (id);',
        'DROP TABLE fresh;',
        'CREATE INDEX users_name ON users (name);',
        'ALTER TABLE users RENAME COLUMN name TO full_name;',
        'ALTER TABLE users ALTER COLUMN id SET NOT NULL;',
        '',
      ].join('\n'),
    );
    const { result, error, rt } = await migrate(dir, url);
    expect(error).toBeUndefined();
    expect(result!.findings.map((f) => [f.line, f.rule, f.destructive])).toEqual([
      [4, 'index-without-concurrently', false],
      [5, 'rename', false],
      [6, 'set-not-null', false],
    ]);
    expect(result!.destructiveApplied).toBe(false);
    expect(
      rt.records.filter((r) => r.level === 'warning' && r.annotation?.file === 'migrations/2_changes.sql'),
    ).toHaveLength(3);
  });
});

describe('backup, dry run and target', () => {
  it('takes a pg_dump before the first pending migration, and none when nothing is pending', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({ '1_a.sql': 'CREATE TABLE a (id int);\nINSERT INTO a VALUES (42);\n' });
    const backups = path.join(dir, 'backups');
    const first = await migrate(dir, url, { backup: true, backupDir: backups });
    expect(first.error).toBeUndefined();
    expect(first.result!.backup).toMatch(/backups\/slipway-backup-\d{8}T\d{6}-before-1_a\.dump$/);
    expect(readFileSync(first.result!.backup).subarray(0, 5).toString()).toBe('PGDMP');
    expect(first.rt.text()).not.toContain(TEST_PG_PASSWORD);
    const second = await migrate(dir, url, { backup: true, backupDir: backups });
    expect(second.result!.backup).toBe('');
  });

  it('dry run lists what would run and the findings, and changes nothing', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({ '1_a.sql': 'CREATE TABLE a (id int);\n', '2_b.sql': 'TRUNCATE a;\n' });
    const { result, error, rt } = await migrate(dir, url, { dryRun: true });
    expect(error).toBeUndefined();
    expect(result!.applied.map((a) => a.file)).toEqual(['migrations/1_a.sql', 'migrations/2_b.sql']);
    expect(result!.pending).toBe(2);
    expect(result!.findings.map((f) => f.rule)).toEqual([]); // a is created in the same run
    expect(rt.text()).toContain('Dry run: 2 migrations would run');
    expect(await tables(url)).toEqual([]);
  });

  it('goes down to a target with the .down.sql files, and up to a target only', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({
      '1_a.sql': 'CREATE TABLE a (id int);\n',
      '2_b.sql': 'CREATE TABLE b (id int);\n',
      '2_b.down.sql': 'DROP TABLE b;\n',
      '3_c.sql': 'CREATE TABLE c (id int);\n',
      '3_c.down.sql': 'DROP TABLE c;\n',
    });
    const up = await migrate(dir, url, { target: '2' });
    expect(up.result!.current).toBe('2');
    expect(up.result!.pending).toBe(1);
    await migrate(dir, url);
    const down = await migrate(dir, url, { target: '1', allowDestructive: true });
    expect(down.error).toBeUndefined();
    expect(down.result!.applied.map((a) => [a.file, a.direction])).toEqual([
      ['migrations/3_c.down.sql', 'down'],
      ['migrations/2_b.down.sql', 'down'],
    ]);
    expect(down.result!.current).toBe('1');
    // Reverted migrations are pending again: the output must say so, on a dry run and after the run.
    expect(down.result!.pending).toBe(2);
    expect(await tables(url)).toEqual(['a', 'slipway_migrations']);
    const back = await migrate(dir, url, { dryRun: true });
    expect(back.result!.pending).toBe(2);
    const none = await migrate(dir, url, { target: '0' });
    expect(none.error!.message).toBe(
      'input "target": going down to 0 needs migrations/1_a.down.sql, which does not exist',
    );
  });
});

describe('concurrency', () => {
  it('two runs at once: one applies, the other waits and finds nothing pending; both succeed', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({
      '1_slow.sql': 'CREATE TABLE slow (id int);\nSELECT pg_sleep(0.5);\n',
      '2_next.sql': 'CREATE TABLE next (id int);\n',
    });
    const [a, b] = await Promise.all([migrate(dir, url), migrate(dir, url)]);
    expect(a.error).toBeUndefined();
    expect(b.error).toBeUndefined();
    const counts = [a.result!.applied.length, b.result!.applied.length].sort();
    expect(counts).toEqual([0, 2]);
    const waiter = a.result!.applied.length === 0 ? a : b;
    expect(waiter.rt.text()).toMatch(
      /Waiting for the migration lock on slipway_migrations, held by "slipway migrate lock"/,
    );
    const rows = await sql(url, 'SELECT version FROM slipway_migrations');
    expect(rows).toHaveLength(2);
  });

  it('two spellings of one table (slipway_migrations, public.slipway_migrations) share one lock: applied once', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({
      '1_slow.sql': 'CREATE TABLE slow (id int);\nSELECT pg_sleep(0.3);\n',
      '2_next.sql': 'CREATE TABLE next (id int);\n',
    });
    const [a, b] = await Promise.all([
      migrate(dir, url, { table: 'slipway_migrations' }),
      migrate(dir, url, { table: 'public.slipway_migrations' }),
    ]);
    expect(a.error).toBeUndefined();
    expect(b.error).toBeUndefined();
    expect([a.result!.applied.length, b.result!.applied.length].sort()).toEqual([0, 2]);
    expect(await sql(url, 'SELECT version FROM slipway_migrations ORDER BY version')).toEqual([
      { version: '1' },
      { version: '2' },
    ]);
  });

  it('waits for the lock on the server (not by sleeping between polls) and takes it when the holder lets go', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({ '1_a.sql': 'CREATE TABLE a (id int);\n' });
    const holder = new pg.Client({ connectionString: url, application_name: 'someone else' });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1, $2)', [0x534c4950, lockKey('public.slipway_migrations')]);
      const running = migrate(dir, url, { lockTimeoutMs: 60_000 });
      // The waiting run is blocked inside PostgreSQL on the advisory lock itself.
      let waiting: unknown[] = [];
      for (let i = 0; i < 100 && !waiting.length; i++) {
        waiting = await sql(
          url,
          "SELECT 1 FROM pg_stat_activity WHERE application_name = 'slipway migrate lock' AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
        );
        if (!waiting.length) await new Promise((r) => setTimeout(r, 50));
      }
      expect(waiting).toHaveLength(1);
      await holder.query('SELECT pg_advisory_unlock_all()');
      const { error, result } = await running;
      expect(error).toBeUndefined();
      expect(result!.applied.map((m) => m.file)).toEqual(['migrations/1_a.sql']);
    } finally {
      await holder.end();
    }
  });

  it('gives up after lock-timeout, saying who holds the lock', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({ '1_a.sql': 'CREATE TABLE a (id int);\n' });
    const holder = new pg.Client({ connectionString: url, application_name: 'someone else' });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1, $2)', [0x534c4950, lockKey('public.slipway_migrations')]);
      const { error } = await migrate(dir, url, { lockTimeoutMs: 400 });
      expect(error!.message).toMatch(
        /^another migration run holds the lock on slipway_migrations \("someone else", backend pid \d+/,
      );
      expect(error!.message).toContain('(input "lock-timeout")');
      expect(await tables(url)).toEqual([]);
    } finally {
      await holder.end();
    }
  });
});

describe('connection and secrets', () => {
  it('a wrong password, an unknown database, a bad URL: one clear line, never the password', async () => {
    const dir = migrationsRepo({ '1_a.sql': 'SELECT 1;\n' });
    const wrong = server.url().replace(encodeURIComponent(TEST_PG_PASSWORD), 'not-the-password');
    const badPassword = await migrate(dir, wrong);
    expect(isUserError(badPassword.error)).toBe(true);
    expect(badPassword.error!.message).toMatch(
      /^input "database-url": cannot connect to PostgreSQL at 127\.0\.0\.1:\d+\/postgres: password authentication failed for user "postgres" \(expected a server that accepts the connection\)$/,
    );
    expect(badPassword.error!.message).not.toContain('not-the-password');

    const noDb = await migrate(dir, server.url('nope'));
    expect(noDb.error!.message).toMatch(
      /^input "database-url": cannot connect to PostgreSQL at 127\.0\.0\.1:\d+\/nope: database "nope" does not exist \(expected a server that accepts the connection\)$/,
    );
    expect(noDb.error!.message).not.toContain(TEST_PG_PASSWORD);

    const notUrl = await migrate(dir, `postgres//postgres:${TEST_PG_PASSWORD}@host/db`);
    expect(notUrl.error!.message).toBe(
      'input "database-url": expected a URL such as postgres://user:password@host:5432/database, got text that is not a URL',
    );
    const http = await migrate(dir, `http://postgres:${TEST_PG_PASSWORD}@host/db`);
    expect(http.error!.message).toBe(
      'input "database-url": expected a postgres:// or postgresql:// URL, got a URL with scheme "http"',
    );
    for (const r of [badPassword, noDb, notUrl, http]) expect(r.rt.text()).not.toContain(TEST_PG_PASSWORD);
  });

  it('tool: command runs the project command with DATABASE_URL, under the lock, output in a group', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({});
    const command = 'psql "$DATABASE_URL" -q -c "CREATE TABLE from_tool (id int)" && echo "tool says done"';
    const { result, error, rt } = await migrate(dir, url, { tool: 'command', command });
    expect(error).toBeUndefined();
    expect(result!.tool).toBe('command');
    expect(rt.records.find((r) => r.level === 'group')?.message).toBe(`Migrations: ${command}`);
    expect(rt.text()).toContain('tool says done');
    expect(await tables(url)).toEqual(['from_tool']);
    const failing = await migrate(dir, url, { tool: 'command', command: 'echo "$DATABASE_URL" >&2; exit 3' });
    expect(failing.error!.message).toMatch(/^the migration command `echo .*` exited with 3: \*\*\*$/);
    expect(failing.rt.text()).not.toContain(TEST_PG_PASSWORD);
    expect(existsSync(path.join(dir, 'migrations'))).toBe(true);
  });
});

describe('the action: allowDestructive, refusals and dry runs', () => {
  const policy = (extra = '') =>
    `components:\n  schema:\n    kind: migrations\n    migrate: { dir: migrations, database: { env: APP_DB }${extra} }\n`;

  /** Run the migrate action itself (inputs as INPUT_*), keeping the outputs it set before a failure. */
  async function action(cwd: string, url: string, inputs: Record<string, string | boolean> = {}) {
    const rt = createMemoryRuntime({ cwd, env: { GITHUB_RUN_ID: '78', APP_DB: url, PATH: process.env.PATH } });
    const settled = await invokeActionSettled(migrateAction as unknown as ActionDefinition<InputFields>, inputs, rt);
    return { ...settled, rt };
  }

  /** A database where 1_users.sql is applied and 2_drop.sql drops one of its columns. */
  async function withDropPending(policyText: string): Promise<{ dir: string; url: string }> {
    const url = server.createDatabase();
    const dir = migrationsRepo({ '1_users.sql': 'CREATE TABLE users (id int, legacy text);\n' });
    mkdirSync(path.join(dir, '.github'));
    writeFileSync(path.join(dir, '.github/slipway.yml'), policyText);
    expect((await migrate(dir, url)).error).toBeUndefined();
    write(dir, '2_drop.sql', '\nALTER TABLE users DROP COLUMN legacy;\n');
    return { dir, url };
  }

  const hasLegacy = async (url: string) =>
    (await sql(url, "SELECT 1 FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'legacy'"))
      .length === 1;

  it('refuses a destructive migration naming the input and the policy key, and still sets findings, pending and current', async () => {
    const { dir, url } = await withDropPending(policy());
    const { outputs, error, rt } = await action(dir, url);
    expect(isUserError(error)).toBe(true);
    expect((error as Error).message).toBe(
      'migrations/2_drop.sql:2: 1 destructive statement would break the running version (drop-column); nothing was applied. Once no deployed version depends on what they remove, set the input allow-destructive: true, or migrate.allowDestructive: true on the component in the policy file',
    );
    expect(JSON.parse(outputs.findings)).toEqual([
      expect.objectContaining({ file: 'migrations/2_drop.sql', line: 2, rule: 'drop-column', destructive: true }),
    ]);
    expect(outputs.pending).toBe('1');
    expect(outputs.current).toBe('1');
    expect(outputs.applied).toBe('[]');
    const summary = rt.summaries.join('\n');
    expect(summary).toContain('## Migrations (refused: nothing applied)');
    expect(summary).toContain('| migrations/2_drop.sql | 2 | drop-column | yes |');
    expect(await hasLegacy(url)).toBe(true);
  });

  it('migrate.allowDestructive: true in the policy file lets the reviewed migration through', async () => {
    const { dir, url } = await withDropPending(policy(', allowDestructive: true'));
    const { outputs, error } = await action(dir, url);
    expect(error).toBeUndefined();
    expect(outputs.current).toBe('2');
    expect(JSON.parse(outputs.applied)).toEqual([expect.objectContaining({ file: 'migrations/2_drop.sql' })]);
    expect(await hasLegacy(url)).toBe(false);
  });

  it('the allow-destructive input still enables it when the policy file says nothing (or false)', async () => {
    const { dir, url } = await withDropPending(policy(', allowDestructive: false'));
    const { outputs, error } = await action(dir, url, { 'allow-destructive': true });
    expect(error).toBeUndefined();
    expect(outputs.current).toBe('2');
    expect(await hasLegacy(url)).toBe(false);
  });

  it('a run refused for drift sets findings, pending and current before failing', async () => {
    const { dir, url } = await withDropPending(policy());
    write(dir, '1_users.sql', 'CREATE TABLE users (id int, legacy text, edited text);\n');
    const { outputs, error } = await action(dir, url);
    expect((error as Error).message).toMatch(/^migration drift: migrations\/1_users\.sql changed after it was applied/);
    expect(outputs.current).toBe('1');
    expect(outputs.pending).toBe('1');
    expect(JSON.parse(outputs.findings)).toEqual([
      expect.objectContaining({ file: 'migrations/2_drop.sql', line: 2, rule: 'drop-column' }),
    ]);
  });

  it('a dry run reports the lint findings as warnings on the files, lists them, and changes nothing', async () => {
    const { dir, url } = await withDropPending(policy());
    write(dir, '3_index.sql', 'CREATE INDEX users_id ON users (id);\n');
    const { outputs, error, rt } = await action(dir, url, { 'dry-run': true });
    expect(error).toBeUndefined();
    expect(rt.records.filter((r) => r.level === 'error')).toEqual([]);
    const annotated = rt.records.filter((r) => r.level === 'warning' && r.annotation);
    expect(annotated.map((r) => [r.annotation!.file, r.annotation!.line, r.annotation!.title])).toEqual([
      ['migrations/2_drop.sql', 2, 'migration lint: drop-column'],
      ['migrations/3_index.sql', 1, 'migration lint: index-without-concurrently'],
    ]);
    const text = rt.text();
    expect(text).toContain('Dry run: 2 lint findings:');
    expect(text).toMatch(/^ {2}migrations\/2_drop\.sql:2 drop-column \(destructive\): /m);
    expect(text).toMatch(/^ {2}migrations\/3_index\.sql:1 index-without-concurrently: /m);
    expect(text).toContain('would stop a real run; to let them through, set the input allow-destructive: true');
    expect(JSON.parse(outputs.findings)).toHaveLength(2);
    expect(outputs.pending).toBe('2');
    expect(await hasLegacy(url)).toBe(true);
    expect(await sql(url, 'SELECT version FROM slipway_migrations')).toHaveLength(1);
  });
  it('reads DATABASE_URL when the policy file names no variable, as deploy does', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({ '1_users.sql': 'CREATE TABLE users (id int);\n' });
    mkdirSync(path.join(dir, '.github'));
    writeFileSync(path.join(dir, '.github/slipway.yml'), 'components:\n  schema:\n    migrate: { dir: migrations }\n');
    const run = async (env: NodeJS.ProcessEnv) => {
      const rt = createMemoryRuntime({ cwd: dir, env: { GITHUB_RUN_ID: '79', PATH: process.env.PATH, ...env } });
      return { ...(await invokeActionSettled(migrateAction as unknown as ActionDefinition<InputFields>, {}, rt)), rt };
    };
    const missing = await run({});
    expect((missing.error as Error).message).toBe(
      'input "database-url" is empty and the variable DATABASE_URL (the default of migrate.database.env) is not set; expected the PostgreSQL URL to migrate, from a secret',
    );
    const done = await run({ DATABASE_URL: url });
    expect(done.error).toBeUndefined();
    expect(done.outputs.current).toBe('1');
    expect(await tables(url)).toEqual(['slipway_migrations', 'users']);
    expect(done.rt.text()).not.toContain(TEST_PG_PASSWORD);

    // No policy file at all: the same variable, as deploy and psql-style tools read it.
    const bare = migrationsRepo({ '1_users.sql': 'CREATE TABLE users (id int);\n' });
    const other = server.createDatabase();
    const rt = createMemoryRuntime({
      cwd: bare,
      env: { GITHUB_RUN_ID: '80', PATH: process.env.PATH, DATABASE_URL: other },
    });
    const plain = await invokeActionSettled(migrateAction as unknown as ActionDefinition<InputFields>, {}, rt);
    expect(plain.error).toBeUndefined();
    expect(await tables(other)).toEqual(['slipway_migrations', 'users']);
  });

  it('a bad migrate.table or an unset migrate.database.env variable is named as the policy file says it, not as an input', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({ '1_users.sql': 'CREATE TABLE users (id int);\n' });
    mkdirSync(path.join(dir, '.github'));
    const run = async (yml: string, env: NodeJS.ProcessEnv = {}) => {
      writeFileSync(path.join(dir, '.github/slipway.yml'), yml);
      const rt = createMemoryRuntime({ cwd: dir, env: { GITHUB_RUN_ID: '79', PATH: process.env.PATH, ...env } });
      return (await invokeActionSettled(migrateAction as unknown as ActionDefinition<InputFields>, {}, rt))
        .error as Error;
    };
    expect(
      (await run('components:\n  schema:\n    migrate:\n      dir: migrations\n      table: ops-history\n')).message,
    ).toBe(
      '.github/slipway.yml:5:7: components.schema.migrate.table: expected a table name such as slipway_migrations or ops.migrations (letters, digits, _)',
    );
    const unset = await run('components:\n  schema:\n    migrate: { dir: migrations, database: { env: PROD_DB } }\n', {
      DATABASE_URL: url,
    });
    expect(unset.message).toBe(
      'input "database-url" is empty and the variable PROD_DB (migrate.database.env) is not set; expected the PostgreSQL URL to migrate, from a secret',
    );
    expect(await tables(url)).toEqual([]);
  });

  it('a migration failing mid-run still sets applied (what committed before it), pending and current', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({ '1_users.sql': 'CREATE TABLE users (id int);\n' });
    mkdirSync(path.join(dir, '.github'));
    writeFileSync(path.join(dir, '.github/slipway.yml'), policy());
    expect((await migrate(dir, url)).error).toBeUndefined();
    write(dir, '2_orders.sql', 'CREATE TABLE orders (id int);\n');
    write(dir, '3_bad.sql', 'INSERT INTO nowhere VALUES (1);\n');
    write(dir, '4_after.sql', 'CREATE TABLE after_bad (id int);\n');
    const { outputs, error, rt } = await action(dir, url);
    expect((error as Error).message).toMatch(
      /^migrations\/3_bad\.sql:1: migration failed: relation "nowhere" does not exist/,
    );
    expect(JSON.parse(outputs.applied)).toEqual([
      expect.objectContaining({ file: 'migrations/2_orders.sql', direction: 'up', transaction: true }),
    ]);
    expect(outputs.current).toBe('2');
    expect(outputs.pending).toBe('2');
    expect(rt.summaries.join('\n')).toMatch(/\*\*Failed:\*\* migrations\/3_bad\.sql:1: migration failed/);
    expect(await tables(url)).toEqual(['orders', 'slipway_migrations', 'users']);
  });
});

describe("deploy's migrations step", () => {
  it('honours migrate.allowDestructive from the policy file, and refuses without it', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({ '1_users.sql': 'CREATE TABLE users (id int, legacy text);\n' });
    expect((await migrate(dir, url)).error).toBeUndefined();
    write(dir, '2_drop.sql', 'ALTER TABLE users DROP COLUMN legacy;\n');
    const step = async (allow: string) => {
      mkdirSync(path.join(dir, '.github'), { recursive: true });
      writeFileSync(
        path.join(dir, '.github/slipway.yml'),
        `components:\n  schema:\n    migrate: { dir: migrations, database: { env: APP_DB }${allow} }\n`,
      );
      const config = await loadConfig(dir, '');
      const runtime = createMemoryRuntime({ cwd: dir, env: { APP_DB: url, PATH: process.env.PATH } });
      const backupDir = path.join(dir, 'backups');
      return migrationsStep({ backupDir })({
        component: config.components.schema,
        environment: 'production',
        version: '2.0.0',
        runtime,
      });
    };
    // deploy has no allow-destructive input: its refusal names the one way through, the policy key.
    const refusal = step('');
    await expect(refusal).rejects.toThrow(
      /nothing was applied\. Once no deployed version depends on what they remove, set migrate\.allowDestructive: true on components\.schema in the policy file$/,
    );
    await expect(refusal).rejects.not.toThrow(/allow-destructive/);
    const outcome = await step(', allowDestructive: true');
    expect(outcome.applied).toEqual(['migrations/2_drop.sql']);
    expect(outcome.breaking).toEqual([expect.stringMatching(/^migrations\/2_drop\.sql:1: DROP COLUMN users\.legacy/)]);
    expect(outcome.backup).toMatch(/slipway-backup-.*-before-2_drop\.dump$/);
  });
});

describe('tool: command under the lock', () => {
  /** Poll until `check` holds (at most 20 s): for states another async run reaches. */
  async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
    for (let i = 0; !(await check()); i++) {
      if (i > 200) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('holds the advisory lock while the command runs (a second run waits) and takes the backup first', async () => {
    const url = server.createDatabase();
    await sql(url, 'CREATE TABLE steps (n serial, what text)');
    const dir = migrationsRepo({});
    const backups = path.join(dir, 'backups');
    const step = (what: string) => `psql "$DATABASE_URL" -q -c "INSERT INTO steps (what) VALUES ('${what}')"`;
    const lockHolders = `psql "$DATABASE_URL" -Atc "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted" > "$WHO.lock"`;
    // The first command waits for the test's go, so the second run is sure to find the lock taken.
    const first = [
      step('first starts'),
      lockHolders,
      'ls "$BACKUP_DIR" > first.backups',
      'touch first.started',
      'until [ -f go ]; do sleep 0.05; done',
      step('first ends'),
    ].join(' && ');
    const second = [step('second starts'), lockHolders, step('second ends')].join(' && ');
    const run = (command: string, who: string) =>
      migrate(
        dir,
        url,
        { tool: 'command', command, backup: true, backupDir: backups },
        { WHO: who, BACKUP_DIR: backups },
      );

    const a = run(first, 'first');
    await until(() => existsSync(path.join(dir, 'first.started')), 'the first command to start');
    const bRun = run(second, 'second');
    const b = await Promise.race([bRun, new Promise<null>((r) => setTimeout(() => r(null), 1500))]);
    expect(b).toBeNull(); // still waiting for the lock, not finished
    writeFileSync(path.join(dir, 'go'), '');
    const [ra, rb] = await Promise.all([a, bRun]);
    expect(ra.error).toBeUndefined();
    expect(rb.error).toBeUndefined();

    const order = (await sql<{ what: string }>(url, 'SELECT what FROM steps ORDER BY n')).map((r) => r.what);
    expect(order).toEqual(['first starts', 'first ends', 'second starts', 'second ends']);
    expect(rb.rt.text()).toMatch(
      /Waiting for the migration lock on slipway_migrations, held by "slipway migrate lock"/,
    );
    expect(readFileSync(path.join(dir, 'first.lock'), 'utf8').trim()).toBe('slipway migrate lock');
    expect(readFileSync(path.join(dir, 'second.lock'), 'utf8').trim()).toBe('slipway migrate lock');
    // The backup existed before the command ran, and is the one the run reports.
    expect(ra.result!.backup).toMatch(/backups\/slipway-backup-\d{8}T\d{6}-before-command\.dump$/);
    expect(readFileSync(path.join(dir, 'first.backups'), 'utf8').trim().split('\n')).toContain(
      path.basename(ra.result!.backup),
    );
    expect(readFileSync(ra.result!.backup).subarray(0, 5).toString()).toBe('PGDMP');
  }, 60_000);

  it('every connection of a run has TCP keepalive on (seen by ss while the lock is held)', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({});
    // While the command runs, the run's lock connection is open; ss shows the kernel's keepalive timer on it.
    const command = `ss -tnoH state established "( dport = :${server.port} )" > sockets`;
    const { error } = await migrate(dir, url, { tool: 'command', command });
    expect(error).toBeUndefined();
    const lines = readFileSync(path.join(dir, 'sockets'), 'utf8').trim().split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toContain('timer:(keepalive');
  });
});

describe('the lock connection', () => {
  it('fails clearly when the server stops answering it, instead of waiting forever', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({ '1_a.sql': 'CREATE TABLE a (id int);\n' });
    const proxy = await startTcpProxy(server.port);
    const holder = new pg.Client({ connectionString: url, application_name: 'someone else' });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1, $2)', [0x534c4950, lockKey('public.slipway_migrations')]);
      const through = url.replace(`:${server.port}/`, `:${proxy.port}/`);
      const running = migrate(dir, through, { lockTimeoutMs: 120_000, lockQueryTimeoutMs: 800 });
      // Once the run is polling for the lock, the network goes silent (sockets open, nothing delivered).
      for (let i = 0; ; i++) {
        const { rows } = await holder.query(
          "SELECT 1 FROM pg_stat_activity WHERE application_name = 'slipway migrate lock'",
        );
        if (rows.length) break;
        if (i > 200) throw new Error('the run never connected for the lock');
        await new Promise((r) => setTimeout(r, 50));
      }
      proxy.freeze();
      const { error } = await running;
      expect(isUserError(error)).toBe(true);
      expect(error!.message).toMatch(
        /^PostgreSQL at 127\.0\.0\.1:\d+\/test_\w+ did not answer the lock connection within 800 ms; the network or the server is stuck$/,
      );
      expect(await tables(url)).toEqual([]);
    } finally {
      await holder.end();
      proxy.stop();
    }
  }, 30_000);
});

/** A TCP proxy to 127.0.0.1:`port` that can go silent: connections stay open and nothing more is delivered. */
async function startTcpProxy(port: number) {
  const pairs: [net.Socket, net.Socket][] = [];
  let frozen = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    pairs.push([client, upstream]);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ]) {
      from.on('error', () => to.destroy());
      from.on('data', (d: Buffer) => {
        if (frozen) return;
        to.write(d);
      });
      from.on('end', () => {
        if (!frozen) to.end();
      });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    freeze: () => void (frozen = true),
    stop: () => {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      server.close();
    },
  };
}

describe('TLS: sslmode as libpq means it', () => {
  let tls: TestPostgres;
  beforeAll(async () => {
    tls = await startPostgres({ tls: true });
  }, 60_000);
  afterAll(() => tls?.stop());

  it('require encrypts without verifying a private certificate, as psql and pg_dump do; verify-full refuses it at once', async () => {
    const url = tls.createDatabase();
    const dir = migrationsRepo({ '1_a.sql': 'CREATE TABLE a (id int);\n' });
    const required = await migrate(dir, `${url}?sslmode=require`);
    expect(required.error).toBeUndefined();
    expect(required.result?.applied.map((a) => a.version)).toEqual(['1']);

    const verified = await migrate(dir, `${url}?sslmode=verify-full`);
    expect(verified.error?.message).toMatch(
      /^input "database-url": cannot connect to PostgreSQL at .*self-signed certificate/,
    );
    // A certificate does not change on a retry.
    expect(verified.rt.text()).not.toContain('attempt 2');

    const bogus = await migrate(dir, `${url}?sslmode=bogus`);
    expect(bogus.error?.message).toBe(
      'input "database-url": sslmode=bogus is not a mode PostgreSQL knows (expected one of disable, prefer, require, verify-ca, verify-full)',
    );
  });
});
