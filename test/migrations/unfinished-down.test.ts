/**
 * Unfinished no-transaction migrations, against a real PostgreSQL: a down that fails midway
 * is marked unfinished like an up (and resolved its own way); a failed concurrent index build
 * names the invalid index it left; a statement that failed is said to have failed (at the line
 * it had then); and `pending` after a resolve counts what is not applied.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { MigrationFailed, MigrationRefused, type MigrateOptions } from '../../src/migrations/runner.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { migrateAs, sql } from '../helpers/migrate-repo.js';

let server: TestPostgres;
let dir: string;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(() => server?.stop());
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'slipway-unfinished-down-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The built-in runner over this test's folder as run 9. */
const migrate = (url: string, options: Partial<MigrateOptions> = {}) =>
  migrateAs('9')(dir, url, { lockTimeoutMs: 5000, ...options });

function write(folder: string, name: string, sql: string): void {
  mkdirSync(path.join(dir, folder), { recursive: true });
  writeFileSync(path.join(dir, folder, name), sql);
}

const versions = async (url: string) =>
  (await sql<{ v: string }>(url, 'SELECT version::text AS v FROM slipway_migrations ORDER BY version')).map((r) => r.v);
const exists = async (url: string, name: string) =>
  (await sql<{ t: string | null }>(url, `SELECT to_regclass('${name}')::text AS t`))[0].t !== null;

const GOOSE = { dir: 'db/migrations' };
const NT = '20240101000005';

function gooseFolder(): void {
  write(
    'db/migrations',
    '20240101000004_t4.sql',
    '-- +goose Up\nCREATE TABLE t4 (id int);\n-- +goose Down\nDROP TABLE t4;\n',
  );
  write(
    'db/migrations',
    `${NT}_nt.sql`,
    [
      '-- +goose NO TRANSACTION',
      '-- +goose Up',
      'CREATE TABLE IF NOT EXISTS t5a (id int);',
      'CREATE TABLE IF NOT EXISTS t5b (id int);',
      '-- +goose Down',
      'DROP TABLE t5b;',
      'DROP TABLE nonexistent_zz;',
      'DROP TABLE t5a;',
      '',
    ].join('\n'),
  );
}

test('a no-transaction down that fails midway is marked unfinished; the next run refuses; "pending" records it reverted', async () => {
  const url = server.createDatabase();
  gooseFolder();
  expect((await migrate(url, GOOSE)).result!.applied.map((m) => m.version)).toEqual(['20240101000004', NT]);

  const down = await migrate(url, { ...GOOSE, target: '20240101000004', allowDestructive: true });
  expect(down.error).toBeInstanceOf(MigrationFailed);
  expect(down.error!.message).toBe(
    `db/migrations/${NT}_nt.sql:7: down migration failed: table "nonexistent_zz" does not exist (SQLSTATE 42P01); it runs outside a transaction, so its 1 statement before line 7 stayed applied; nothing after it ran; it is marked unfinished: check the database, then run migrate with resolve: "${NT} applied" (you put back what it reverted: it stays applied) or "${NT} pending" (you finished reverting it: it is recorded as not applied)`,
  );
  const failed = (down.error as MigrationFailed).result;
  expect(failed).toMatchObject({ applied: [], pending: 0, current: NT });
  // Half reverted: t5b is gone, t5a is not, the history still lists it, and the mark says so.
  expect([await exists(url, 't5a'), await exists(url, 't5b')]).toEqual([true, false]);
  expect(await versions(url)).toEqual(['20240101000004', NT]);
  expect(
    await sql(
      url,
      'SELECT version::text, file, direction, statements, done, line, error FROM slipway_migrations_started',
    ),
  ).toEqual([
    {
      version: NT,
      file: `db/migrations/${NT}_nt.sql`,
      direction: 'down',
      statements: 3,
      done: 1,
      line: 7,
      error: 'table "nonexistent_zz" does not exist',
    },
  ]);

  // Neither a step down again nor a run up plans from that row: both refuse, naming what happened.
  const refusal = `db/migrations/${NT}_nt.sql runs outside a transaction and its down migration did not finish (started by run 9 at `;
  const tail = `): statement 1 of 3 ran, statement 2 (line 7) failed (table "nonexistent_zz" does not exist); nothing after it ran; the history still lists ${NT} as applied. Check the database, then run migrate with resolve: "${NT} applied" (you put back what it reverted: it stays applied) or "${NT} pending" (you finished reverting it: it is recorded as not applied)`;
  for (const options of [GOOSE, { ...GOOSE, target: '20240101000004', allowDestructive: true }]) {
    const again = await migrate(url, options);
    expect(again.error).toBeInstanceOf(MigrationRefused);
    expect(again.error!.message.startsWith(refusal)).toBe(true);
    expect(again.error!.message.endsWith(tail)).toBe(true);
    expect((again.error as MigrationRefused).state).toMatchObject({ pending: 0, current: NT });
  }
  expect(await versions(url)).toEqual(['20240101000004', NT]);

  // Finished by hand, then resolved as pending: the row and the mark go, and the outputs say so.
  await sql(url, 'DROP TABLE t5a');
  const resolved = await migrate(url, { ...GOOSE, resolve: `${NT} pending` });
  expect(resolved.error).toBeUndefined();
  expect(resolved.rt.text()).toContain(
    `Resolved db/migrations/${NT}_nt.sql: recorded as reverted; the migration is pending again.`,
  );
  expect(resolved.result).toMatchObject({ applied: [], pending: 1, current: '20240101000004' });
  expect(await versions(url)).toEqual(['20240101000004']);
  expect(await sql(url, 'SELECT count(*)::int AS n FROM slipway_migrations_started')).toEqual([{ n: 0 }]);
  const dry = await migrate(url, { ...GOOSE, dryRun: true });
  expect(dry.result).toMatchObject({ pending: 1, current: '20240101000004' });

  // The next run applies it again.
  const up = await migrate(url, GOOSE);
  expect(up.result!.applied.map((m) => m.version)).toEqual([NT]);
  expect(up.result).toMatchObject({ pending: 0, current: NT });
  expect([await exists(url, 't5a'), await exists(url, 't5b')]).toEqual([true, true]);
}, 60_000);

test('a no-transaction down resolved as "applied" stays applied, and the next step down runs it from its first statement', async () => {
  const url = server.createDatabase();
  write('migrations', '1_a.sql', 'CREATE TABLE a (x int);\n');
  write('migrations', '2_b.sql', '-- slipway:no-transaction\nCREATE TABLE b1 (x int);\nCREATE TABLE b2 (x int);\n');
  write('migrations', '2_b.down.sql', '-- slipway:no-transaction\nDROP TABLE b2;\nDROP TABLE b2;\nDROP TABLE b1;\n');
  expect((await migrate(url)).result!.applied.map((m) => m.version)).toEqual(['1', '2']);
  const down = await migrate(url, { target: '1', allowDestructive: true });
  expect(down.error?.message).toMatch(
    /^migrations\/2_b\.down\.sql:3: down migration failed: table "b2" does not exist \(SQLSTATE 42P01\); it runs outside a transaction, so its 1 statement before line 3 stayed applied; nothing after it ran; it is marked unfinished/,
  );
  expect(await exists(url, 'b2')).toBe(false);

  // Put back by hand, resolved as applied: the history keeps it, the mark goes.
  await sql(url, 'CREATE TABLE b2 (x int)');
  const resolved = await migrate(url, { resolve: '2 applied' });
  expect(resolved.error).toBeUndefined();
  expect(resolved.rt.text()).toContain('Resolved migrations/2_b.down.sql: its down migration is recorded as not run');
  expect(resolved.result).toMatchObject({ pending: 0, current: '2' });
  expect(await versions(url)).toEqual(['1', '2']);
  expect(await sql(url, 'SELECT count(*)::int AS n FROM slipway_migrations_started')).toEqual([{ n: 0 }]);

  // Fixed down file: the step down now runs it whole and forgets the row with the mark.
  write('migrations', '2_b.down.sql', '-- slipway:no-transaction\nDROP TABLE b2;\nDROP TABLE b1;\n');
  const again = await migrate(url, { target: '1', allowDestructive: true });
  expect(again.error).toBeUndefined();
  expect(again.result).toMatchObject({ pending: 1, current: '1' });
  expect(await versions(url)).toEqual(['1']);
  expect([await exists(url, 'b1'), await exists(url, 'b2')]).toEqual([false, false]);
  expect(await sql(url, 'SELECT count(*)::int AS n FROM slipway_migrations_started')).toEqual([{ n: 0 }]);
}, 60_000);

test('a failed concurrent unique index: the failure names the invalid index it left and how to drop it', async () => {
  const url = server.createDatabase();
  write('migrations', '8_users.sql', "CREATE TABLE users (email text);\nINSERT INTO users VALUES ('a'), ('a');\n");
  write(
    'migrations',
    '9_u.sql',
    '-- slipway:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_u ON users (email);\n',
  );
  const failed = await migrate(url);
  expect(failed.error).toBeInstanceOf(MigrationFailed);
  expect(failed.error!.message).toBe(
    'migrations/9_u.sql:2: migration failed: could not create unique index "users_email_u" (SQLSTATE 23505) — Key (email)=(a) is duplicated.; it runs outside a transaction, so the failed concurrent statement left the invalid index public.users_email_u behind (IF NOT EXISTS would skip it on a re-run); nothing after it ran; it is marked unfinished: DROP INDEX CONCURRENTLY public.users_email_u, then run migrate with resolve: "9 pending" to run it again',
  );
  expect((failed.error as MigrationFailed).result).toMatchObject({ pending: 1, current: '8' });
  expect(await sql(url, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.users_email_u'::regclass")).toEqual(
    [{ indisvalid: false }],
  );

  // The next run says the statement failed (it did not merely "may have run"), and names the index too.
  const again = await migrate(url);
  expect(again.error!.message).toMatch(
    /^migrations\/9_u\.sql runs outside a transaction and did not finish \(started by run 9 at [^)]*\): statement 1 of 1 \(line 2\) failed \(could not create unique index "users_email_u"\); nothing after it ran\. Index public\.users_email_u is invalid \(a concurrent build that did not finish; IF NOT EXISTS would skip it\): DROP INDEX CONCURRENTLY public\.users_email_u before resolving\. Check the database, then run migrate with resolve: "9 applied" \(it is done\) or "9 pending" \(run it again\)$/,
  );

  // Doing what it says works.
  await sql(url, "DELETE FROM users WHERE ctid = (SELECT max(ctid) FROM users WHERE email = 'a')");
  await sql(url, 'DROP INDEX CONCURRENTLY public.users_email_u');
  expect((await migrate(url, { resolve: '9 pending' })).result).toMatchObject({ pending: 1, current: '8' });
  const ok = await migrate(url);
  expect(ok.error).toBeUndefined();
  expect(ok.result).toMatchObject({ pending: 0, current: '9' });
  expect(await sql(url, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.users_email_u'::regclass")).toEqual(
    [{ indisvalid: true }],
  );
}, 60_000);

test('resolving a failed concurrent index as "applied" while it is still invalid records it, with a warning naming the index', async () => {
  const url = server.createDatabase();
  write('migrations', '8_users.sql', "CREATE TABLE users (email text);\nINSERT INTO users VALUES ('a'), ('a');\n");
  write(
    'migrations',
    '9_u.sql',
    '-- slipway:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_u ON users (email);\n',
  );
  expect((await migrate(url)).error).toBeInstanceOf(MigrationFailed);
  const resolved = await migrate(url, { resolve: '9 applied' });
  expect(resolved.error).toBeUndefined();
  expect(resolved.result).toMatchObject({ pending: 0, current: '9' });
  expect(resolved.rt.records.filter((r) => r.level === 'warning').map((r) => r.message)).toEqual([
    'migrations/9_u.sql is recorded as applied, but an index is still invalid: public.users_email_u (enforces nothing until rebuilt: DROP INDEX CONCURRENTLY, then create it again in a new migration)',
  ]);
}, 60_000);

test('after a resolve, pending counts what is not applied, as a dry run does', async () => {
  const url = server.createDatabase();
  write('migrations', '1_t.sql', 'CREATE TABLE t (a int);\n');
  write('migrations', '2_nt.sql', '-- slipway:no-transaction\nCREATE TABLE n1 (a int);\nSELECT 1 / 0;\n');
  write('migrations', '3_x.sql', 'CREATE TABLE x (a int);\n');
  const failed = await migrate(url);
  expect((failed.error as MigrationFailed).result).toMatchObject({ pending: 2, current: '1' });

  const pending = await migrate(url, { resolve: '2 pending' });
  expect(pending.result).toMatchObject({ applied: [], pending: 2, current: '1' });
  const dry = await migrate(url, { dryRun: true });
  expect(dry.result!.pending).toBe(2);

  // Failed again (the file still divides by zero), then resolved as applied: only 3 is left.
  await migrate(url);
  const applied = await migrate(url, { resolve: '2 applied' });
  expect(applied.result).toMatchObject({ applied: [], pending: 1, current: '2' });
  expect((await migrate(url, { dryRun: true })).result!.pending).toBe(1);
}, 60_000);

test('a statement that failed is said to have failed, at the line it had when it ran', async () => {
  const url = server.createDatabase();
  write(
    'migrations',
    '1_nt.sql',
    '-- slipway:no-transaction\nCREATE TABLE p (a int);\nCREATE TABLE q (a int);\nCREATE TABLE r (a int);\n\nCREATE TABLE p (a int);\n',
  );
  const failed = await migrate(url);
  expect(failed.error!.message).toMatch(
    /^migrations\/1_nt\.sql:6: migration failed: relation "p" already exists \(SQLSTATE 42P07\); it runs outside a transaction, so its 3 statements before line 6 stayed applied/,
  );
  const again = await migrate(url);
  expect(again.error!.message).toContain(
    'statements 1-3 of 4 ran, statement 4 (line 6) failed (relation "p" already exists); nothing after it ran. Check the database',
  );
  expect(again.error!.message).not.toContain('may have run');

  // Edited since (a line added above it): the recorded line is said to be the old one.
  write(
    'migrations',
    '1_nt.sql',
    '-- slipway:no-transaction\n-- fixed\nCREATE TABLE p (a int);\nCREATE TABLE q (a int);\nCREATE TABLE r (a int);\n\nCREATE TABLE IF NOT EXISTS p (a int);\n',
  );
  const edited = await migrate(url);
  expect(edited.error!.message).toContain(
    'statements 1-3 of 4 ran, statement 4 (line 6 when it ran; the file has changed since) failed (relation "p" already exists)',
  );
}, 60_000);

test('a mark left by an earlier version (no line, no direction) still reads, and the table gains the new columns', async () => {
  const url = server.createDatabase();
  write('migrations', '1_nt.sql', '-- slipway:no-transaction\nCREATE TABLE IF NOT EXISTS a (x int);\nSELECT 1;\n');
  await migrate(url, { dryRun: false, target: '0' });
  // The table as the earlier version made it, with a mark from a killed run.
  await sql(
    url,
    `CREATE TABLE slipway_migrations_started (version bigint PRIMARY KEY, name text NOT NULL, file text NOT NULL,
       statements integer NOT NULL, done integer NOT NULL DEFAULT 0, started_at timestamptz NOT NULL DEFAULT now(), started_by text NOT NULL);
     INSERT INTO slipway_migrations_started (version, name, file, statements, done, started_by) VALUES (1, 'nt', 'migrations/1_nt.sql', 2, 1, 'run 1')`,
  );
  const refused = await migrate(url);
  // Which line statement 2 had then is not known: none is named.
  expect(refused.error!.message).toContain('statement 1 of 2 ran, statement 2 may have run. Check the database');
  expect((await migrate(url, { resolve: '1 pending' })).result).toMatchObject({ pending: 1, current: '' });
  const ok = await migrate(url);
  expect(ok.result).toMatchObject({ pending: 0, current: '1' });
  const columns = await sql<{ c: string }>(
    url,
    "SELECT attname AS c FROM pg_attribute WHERE attrelid = 'slipway_migrations_started'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
  );
  expect(columns.map((r) => r.c).slice(7)).toEqual(['direction', 'line', 'sql_checksum', 'error']);
}, 60_000);
