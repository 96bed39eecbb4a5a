/**
 * A no-transaction migration killed midway (SIGKILL, in a real process) or failed: the next
 * run says which statements ran and which may have, and refuses until it is resolved; an
 * index left invalid by a concurrent build fails the migration, naming it.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { MigrateOptions } from '../../src/migrations/runner.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { migrateAs, sql } from '../helpers/migrate-repo.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
let server: TestPostgres;
let dir: string;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(() => server?.stop());
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'slipway-unfinished-'));
  mkdirSync(path.join(dir, 'migrations'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The built-in runner over this test's folder as run 9. */
const migrate = (url: string, options: Partial<MigrateOptions> = {}) =>
  migrateAs('9')(dir, url, { lockTimeoutMs: 5000, ...options });

const write = (name: string, sql: string) => writeFileSync(path.join(dir, 'migrations', name), sql);

test('killed midway: the re-run names what ran and refuses until resolved; pending runs it again', async () => {
  const url = server.createDatabase();
  write('1_t.sql', 'CREATE TABLE t (a int);\n');
  write(
    '2_slow.sql',
    '-- slipway:no-transaction\nCREATE TABLE IF NOT EXISTS first (a int);\nSELECT pg_sleep(60);\nCREATE TABLE IF NOT EXISTS second (a int);\n',
  );
  // The migrate action as its own process, killed with SIGKILL while statement 2 runs.
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'),
      path.join(ROOT, 'src/cli/main.ts'),
      'migrate',
      '--database-url',
      url,
    ],
    { cwd: dir, stdio: 'ignore' },
  );
  for (let i = 0; i < 300; i++) {
    const sleeping = await sql(url, "SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'");
    if (sleeping.length) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.on('close', r));
  await sql(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'");

  const again = await migrate(url);
  expect(again.error?.message).toMatch(
    /^migrations\/2_slow\.sql runs outside a transaction and did not finish \(started by .* at .*\): statement 1 of 3 ran, statement 2 \(line 3\) may have run\. Check the database, then run migrate with resolve: "2 applied" \(it is done\) or "2 pending" \(run it again\)$/,
  );
  expect(await sql(url, "SELECT to_regclass('second') AS t")).toEqual([{ t: null }]);

  expect((await migrate(url, { resolve: '7 pending' })).error?.message).toMatch(
    /^input "resolve": version 7 is not an unfinished migration/,
  );
  expect((await migrate(url, { resolve: '2 maybe' })).error?.message).toMatch(
    /^input "resolve": expected "<version> applied"/,
  );
  const resolved = await migrate(url, { resolve: '2 pending' });
  expect(resolved.error).toBeUndefined();
  expect(resolved.rt.text()).toContain('Resolved migrations/2_slow.sql: pending again');

  // Now it runs again from its first statement (written to be re-runnable) and is recorded.
  write(
    '2_slow.sql',
    '-- slipway:no-transaction\nCREATE TABLE IF NOT EXISTS first (a int);\nCREATE TABLE IF NOT EXISTS second (a int);\n',
  );
  // The file changed after its run was started but never recorded: not drift.
  const done = await migrate(url);
  expect(done.error).toBeUndefined();
  expect(done.result!.applied.map((m) => m.version)).toEqual(['2']);
  expect(await sql(url, 'SELECT count(*)::int AS n FROM slipway_migrations_started')).toEqual([{ n: 0 }]);
}, 120_000);

test('a failed unique index built concurrently: the run stops at its line, and IF NOT EXISTS cannot hide the invalid index', async () => {
  const url = server.createDatabase();
  write('1_t.sql', 'CREATE TABLE t (a int);\nINSERT INTO t VALUES (1), (1);\n');
  write('2_u.sql', '-- slipway:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);\n');
  const failed = await migrate(url);
  expect(failed.error?.message).toMatch(
    /^migrations\/2_u\.sql:2: migration failed: could not create unique index "t_a".*it is marked unfinished/,
  );
  // Fixed data, resolved as pending: IF NOT EXISTS now skips the invalid index, and the check catches it.
  await sql(url, 'DELETE FROM t WHERE ctid = (SELECT max(ctid) FROM t)');
  expect((await migrate(url, { resolve: '2 pending' })).error).toBeUndefined();
  const invalid = await migrate(url);
  expect(invalid.error?.message).toMatch(
    /^migrations\/2_u\.sql: index public\.t_a is invalid \(a concurrent build did not finish\); DROP INDEX CONCURRENTLY public\.t_a, then run migrate with resolve: "2 applied" or "2 pending"$/,
  );
  expect(await sql(url, 'SELECT version::text FROM slipway_migrations ORDER BY version')).toEqual([{ version: '1' }]);
  await sql(url, 'DROP INDEX CONCURRENTLY public.t_a');
  expect((await migrate(url, { resolve: '2 pending' })).error).toBeUndefined();
  const ok = await migrate(url);
  expect(ok.error).toBeUndefined();
  expect(await sql(url, "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_a'::regclass")).toEqual([
    { indisvalid: true },
  ]);
});

test('resolve applied records the migration with its checksum, and the next run goes on after it', async () => {
  const url = server.createDatabase();
  write('1_a.sql', '-- slipway:no-transaction\nCREATE TABLE a (x int);\nCREATE TABLE a (x int);\n');
  write('2_b.sql', 'CREATE TABLE b (x int);\n');
  const failed = await migrate(url);
  expect(failed.error?.message).toMatch(
    /its 1 statement before line 3 stayed applied; nothing after it ran; it is marked unfinished/,
  );
  const resolved = await migrate(url, { resolve: '1 applied' });
  expect(resolved.error).toBeUndefined();
  const rows = await sql<{ version: string; applied_by: string }>(
    url,
    'SELECT version::text, applied_by FROM slipway_migrations',
  );
  expect(rows).toEqual([{ version: '1', applied_by: 'run 9 (resolved)' }]);
  const next = await migrate(url);
  expect(next.result!.applied.map((m) => m.version)).toEqual(['2']);
});
