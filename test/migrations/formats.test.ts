/**
 * The migration formats teams already use, run by the built-in runner against a real
 * PostgreSQL: only the Up part runs forward, the Down part is what a down step runs, a re-run
 * applies nothing, each file's checksum is recorded; files the runner cannot run fail in one line.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/core/config.js';
import { isUserError } from '../../src/core/errors.js';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import type { ActionDefinition, InputFields } from '../../src/core/inputs.js';
import { migrationsStep } from '../../src/deploy/migrate-step.js';
import { migrate as migrateAction } from '../../src/migrations/migrate.js';
import { invokeActionSettled } from '../../src/pipeline/invoke.js';
import { flywayKey, flywayVersionOfKey } from '../../src/migrations/formats/flyway.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { cleanRepos, columns, history, migrate, repo, sql, tables, write } from '../helpers/migrate-repo.js';

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(() => server?.stop());
afterEach(cleanRepos);

const sha = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
const checksumOf = (dir: string, file: string) => sha(readFileSync(path.join(dir, file)));

describe('goose', () => {
  const files = {
    'migrations/00001_create_users_table.sql': `-- +goose Up
-- +goose StatementBegin
CREATE TABLE users (
    id int NOT NULL PRIMARY KEY,
    username text,
    name text,
    surname text
);
INSERT INTO users VALUES (0, 'root', '', '');
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP TABLE users;
-- +goose StatementEnd
`,
    'migrations/00002_add_email.sql': `-- +goose Up
ALTER TABLE users ADD COLUMN email text;

-- +goose Down
ALTER TABLE users DROP COLUMN email;
`,
    'migrations/00003_users_email_index.sql': `-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email ON users (email);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS users_email;
`,
    'migrations/00004_touch_function.sql': `-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION touch_user(uid int) RETURNS void AS $$
BEGIN
  UPDATE users SET name = name WHERE id = uid;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION touch_user(int);
`,
  };

  it('applies the Up sections only (the Down DROP COLUMN never runs), records each checksum, re-runs nothing', async () => {
    const url = server.createDatabase();
    const dir = repo(files);
    const { result, error, rt } = await migrate(dir, url);
    expect(error).toBeUndefined();
    expect(result!.applied.map((a) => [a.version, a.name, a.transaction])).toEqual([
      ['00001', 'create_users_table', true],
      ['00002', 'add_email', true],
      ['00003', 'users_email_index', false],
      ['00004', 'touch_function', true],
    ]);
    // The lint reads the Up section: the Down's DROP COLUMN is no finding.
    expect(result!.findings).toEqual([]);
    expect(rt.text()).toContain('-- +goose NO TRANSACTION');
    expect(await columns(url, 'users')).toEqual(['id', 'username', 'name', 'surname', 'email']);
    expect(
      await sql(url, "SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = 'users_email'::regclass"),
    ).toEqual([{ valid: true }]);
    expect(await sql(url, 'SELECT touch_user(0)::text AS r')).toEqual([{ r: '' }]);
    const rows = await history(url);
    expect(rows.map((r) => [r.version, r.name])).toEqual([
      ['1', 'create_users_table'],
      ['2', 'add_email'],
      ['3', 'users_email_index'],
      ['4', 'touch_function'],
    ]);
    expect(rows.map((r) => r.checksum)).toEqual(Object.keys(files).map((f) => checksumOf(dir, f)));

    const again = await migrate(dir, url);
    expect(again.result!.applied).toEqual([]);
    expect(await columns(url, 'users')).toContain('email');
  });

  it('a down step runs the Down sections', async () => {
    const url = server.createDatabase();
    const dir = repo(files);
    await migrate(dir, url);
    const down = await migrate(dir, url, { target: '1', allowDestructive: true });
    expect(down.error).toBeUndefined();
    expect(down.result!.applied.map((a) => [a.version, a.direction, a.transaction])).toEqual([
      ['00004', 'down', true],
      ['00003', 'down', false],
      ['00002', 'down', true],
    ]);
    expect(await columns(url, 'users')).toEqual(['id', 'username', 'name', 'surname']);
    expect((await history(url)).map((r) => r.version)).toEqual(['1']);
  });

  it('a StatementBegin/End block is one statement: in a NO TRANSACTION file it runs as one query, all or nothing', async () => {
    const url = server.createDatabase();
    const dir = repo({
      'migrations/00001_t.sql': '-- +goose Up\nCREATE TABLE t (id int);\n\n-- +goose Down\nDROP TABLE t;\n',
      'migrations/00002_fill.sql': `-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY t_id ON t (id);
-- +goose StatementBegin
INSERT INTO t VALUES (1);
INSERT INTO t VALUES ('x'::int);
-- +goose StatementEnd

-- +goose Down
DELETE FROM t;
`,
    });
    const { error } = await migrate(dir, url);
    expect(error!.message).toMatch(
      /^migrations\/00002_fill\.sql:\d+: migration failed: invalid input syntax for type integer/,
    );
    // Split by the lexer, the first INSERT would have stayed; goose sends the block as one query.
    expect(await sql(url, 'SELECT count(*)::int AS n FROM t')).toEqual([{ n: 0 }]);
    expect(await sql(url, "SELECT count(*)::int AS n FROM pg_class WHERE relname = 't_id'")).toEqual([{ n: 1 }]);
  });

  it('a .go migration fails in one line naming it and tool: command with goose; nothing runs', async () => {
    const url = server.createDatabase();
    const dir = repo({
      'migrations/00001_create_users_table.sql': files['migrations/00001_create_users_table.sql'],
      'migrations/00002_backfill.go': 'package migrations\n\nfunc init() { goose.AddMigrationContext(up, down) }\n',
    });
    const { error } = await migrate(dir, url);
    expect(isUserError(error)).toBe(true);
    expect(error!.message).not.toContain('\n');
    expect(error!.message).toMatch(/^migrations\/00002_backfill\.go: a goose Go migration; .*tool: command.*goose/);
    expect(await tables(url)).toEqual([]);
  });

  it('advice to run a file outside a transaction is in goose terms', async () => {
    const url = server.createDatabase();
    const dir = repo({
      'migrations/00001_a.sql': files['migrations/00001_create_users_table.sql'],
      'migrations/00002_b.sql': '-- +goose Up\nCREATE INDEX CONCURRENTLY users_name ON users (name);\n',
    });
    const { error } = await migrate(dir, url);
    expect(error!.message).toMatch(
      /^migrations\/00002_b\.sql:2: .*cannot run inside a transaction; add -- \+goose NO TRANSACTION to the file/,
    );
    expect(error!.message).not.toContain('slipway:no-transaction');
  });

  it('a goose file without -- +goose Up is an error naming it, not a migration run whole', async () => {
    const url = server.createDatabase();
    const dir = repo({
      'migrations/00001_a.sql': files['migrations/00001_create_users_table.sql'],
      'migrations/00002_b.sql': 'ALTER TABLE users ADD COLUMN x int;\n',
    });
    const { error } = await migrate(dir, url);
    expect(error!.message).toMatch(/^migrations\/00002_b\.sql:1: SQL before -- \+goose Up/);
    expect(await tables(url)).toEqual([]);
  });

  it('a folder whose only goose file has just a Down section is read as goose, and refused: its Down never runs', async () => {
    for (const [file, text, expected] of [
      [
        'migrations/00001_a.sql',
        '-- +goose Down\nCREATE TABLE oops (id int);\n',
        /^migrations\/00001_a\.sql: no -- \+goose Up/,
      ],
      [
        'migrations/20240101000000_a.sql',
        '-- migrate:down\nCREATE TABLE oops (id int);\n',
        /^migrations\/20240101000000_a\.sql.*migrate:up/,
      ],
    ] as const) {
      const url = server.createDatabase();
      const { error } = await migrate(repo({ [file]: text }), url);
      expect(isUserError(error)).toBe(true);
      expect(error!.message).toMatch(expected);
      expect(await tables(url)).toEqual([]);
    }
  });

  it('annotation errors point at the annotation line, with the file name as it is', async () => {
    const cases = [
      [
        '-- +goose Up\n-- +goose ENVSUB ON\nCREATE TABLE a (id int);\n',
        2,
        /^migrations\/00001_a\.sql:2: uses -- \+goose ENVSUB ON/,
      ],
      [
        '-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n',
        2,
        /^migrations\/00001_a\.sql:2: -- \+goose StatementBegin without StatementEnd/,
      ],
    ] as const;
    for (const [text, line, message] of cases) {
      const url = server.createDatabase();
      const { error } = await migrate(repo({ 'migrations/00001_a.sql': text }), url);
      expect(error!.message).toMatch(message);
      expect((error as unknown as { location?: unknown }).location).toEqual({ file: 'migrations/00001_a.sql', line });
    }
  });
});

describe('golang-migrate', () => {
  const files = {
    'migrations/000001_create_users_table.up.sql': `BEGIN;

CREATE TABLE IF NOT EXISTS users(
   user_id serial PRIMARY KEY,
   username VARCHAR (50) UNIQUE NOT NULL,
   email VARCHAR (300) UNIQUE NOT NULL
);

COMMIT;
`,
    'migrations/000001_create_users_table.down.sql': 'DROP TABLE IF EXISTS users;\n',
    'migrations/000002_add_mood_to_users.up.sql': `BEGIN;
CREATE TYPE enum_mood AS ENUM ('happy', 'sad', 'neutral');
ALTER TABLE users ADD COLUMN mood enum_mood;
COMMIT;
`,
    'migrations/000002_add_mood_to_users.down.sql': `BEGIN;
ALTER TABLE users DROP COLUMN mood;
DROP TYPE enum_mood;
COMMIT;
`,
    'migrations/000003_users_mood_index.up.sql': 'CREATE INDEX CONCURRENTLY users_mood ON users (mood);\n',
    'migrations/000003_users_mood_index.down.sql': 'DROP INDEX CONCURRENTLY users_mood;\n',
  };

  it('applies the .up.sql files under their titles, pairs each .down.sql by version, re-runs nothing', async () => {
    const url = server.createDatabase();
    const dir = repo(files);
    const { result, error } = await migrate(dir, url);
    expect(error).toBeUndefined();
    expect(result!.applied.map((a) => [a.file, a.name, a.transaction])).toEqual([
      ['migrations/000001_create_users_table.up.sql', 'create_users_table', true],
      ['migrations/000002_add_mood_to_users.up.sql', 'add_mood_to_users', true],
      ['migrations/000003_users_mood_index.up.sql', 'users_mood_index', false],
    ]);
    expect(await columns(url, 'users')).toEqual(['user_id', 'username', 'email', 'mood']);
    const rows = await history(url);
    expect(rows.map((r) => [r.version, r.name])).toEqual([
      ['1', 'create_users_table'],
      ['2', 'add_mood_to_users'],
      ['3', 'users_mood_index'],
    ]);
    expect(rows.map((r) => r.checksum)).toEqual(
      Object.keys(files)
        .filter((f) => f.endsWith('.up.sql'))
        .map((f) => checksumOf(dir, f)),
    );
    expect((await migrate(dir, url)).result!.applied).toEqual([]);

    const down = await migrate(dir, url, { target: '1', allowDestructive: true });
    expect(down.error).toBeUndefined();
    expect(down.result!.applied.map((a) => a.file)).toEqual([
      'migrations/000003_users_mood_index.down.sql',
      'migrations/000002_add_mood_to_users.down.sql',
    ]);
    expect(await columns(url, 'users')).toEqual(['user_id', 'username', 'email']);
  });

  it('a history written when the name kept its .up (create_users_table.up) is not drift', async () => {
    const url = server.createDatabase();
    const dir = repo(files);
    await migrate(dir, url);
    await sql(url, "UPDATE slipway_migrations SET name = name || '.up'");
    const { error, result } = await migrate(dir, url);
    expect(error).toBeUndefined();
    expect(result!.applied).toEqual([]);
  });

  it('a .down.sql without its .up.sql names the missing up file', async () => {
    const url = server.createDatabase();
    const dir = repo({
      'migrations/000001_create_users_table.up.sql': files['migrations/000001_create_users_table.up.sql'],
      'migrations/000002_x.down.sql': 'SELECT 1;\n',
    });
    const { error } = await migrate(dir, url);
    expect(error!.message).toBe(
      'migrations/000002_x.down.sql: a down migration without its up migration (no 000002_<title>.up.sql in the folder)',
    );
  });
});

describe('dbmate', () => {
  it('applies the -- migrate:up sections (transaction:false outside a transaction), never the down ones', async () => {
    const url = server.createDatabase();
    const files = {
      'migrations/20151129054053_create_users.sql': `-- migrate:up
create table users (
  id integer,
  name varchar(255),
  email varchar(255) not null
);

-- migrate:down
drop table users;
`,
      'migrations/20151129054054_add_users_nickname.sql': `-- migrate:up
alter table users add column nickname text;

-- migrate:down
alter table users drop column nickname;
`,
      'migrations/20151129054055_index_users_email.sql': `-- migrate:up transaction:false
create index concurrently users_email on users (email);

-- migrate:down transaction:false
drop index concurrently users_email;
`,
    };
    const dir = repo(files);
    const { result, error } = await migrate(dir, url);
    expect(error).toBeUndefined();
    expect(result!.applied.map((a) => [a.version, a.transaction])).toEqual([
      ['20151129054053', true],
      ['20151129054054', true],
      ['20151129054055', false],
    ]);
    expect(result!.findings).toEqual([]);
    expect(await columns(url, 'users')).toEqual(['id', 'name', 'email', 'nickname']);
    expect((await history(url)).map((r) => [r.version, r.checksum])).toEqual(
      Object.keys(files).map((f) => [path.basename(f).split('_')[0], checksumOf(dir, f)]),
    );
    expect((await migrate(dir, url)).result!.applied).toEqual([]);
    const down = await migrate(dir, url, { target: '20151129054053', allowDestructive: true });
    expect(down.result!.applied.map((a) => a.direction)).toEqual(['down', 'down']);
    expect(await columns(url, 'users')).toEqual(['id', 'name', 'email']);
  });
});

describe('Flyway', () => {
  it('orders versions as Flyway does (1 < 1.1 < 1.2 < 1.10 < 2.1), runs V files forward and U files only down', async () => {
    const url = server.createDatabase();
    const log = (v: string) => `INSERT INTO applied_order (v) VALUES ('${v}');\n`;
    const files = {
      'migrations/V1__Create_person_table.sql':
        'CREATE TABLE applied_order (n serial, v text);\ncreate table PERSON (ID int not null, NAME varchar(100) not null);\n' +
        log('1'),
      'migrations/V1.1__Populate_table.sql': "insert into PERSON (ID, NAME) values (1, 'Axel');\n" + log('1.1'),
      'migrations/V1.10__Add_email.sql': 'alter table PERSON add column EMAIL text;\n' + log('1.10'),
      'migrations/V1.2__Add_people.sql': "insert into PERSON (ID, NAME) values (2, 'Mr. Foo');\n" + log('1.2'),
      'migrations/V2_1__Add_city.sql': 'alter table PERSON add column CITY text;\n' + log('2.1'),
      'migrations/U2_1__Add_city.sql': 'alter table PERSON drop column CITY;\n',
      'migrations/U1.10__Add_email.sql': 'alter table PERSON drop column EMAIL;\n',
    };
    const dir = repo(files);
    const { result, error } = await migrate(dir, url);
    expect(error).toBeUndefined();
    expect(result!.applied.map((a) => a.version)).toEqual(['1', '1.1', '1.2', '1.10', '2.1']);
    expect(result!.current).toBe('2.1');
    expect((await sql<{ v: string }>(url, 'SELECT v FROM applied_order ORDER BY n')).map((r) => r.v)).toEqual([
      '1',
      '1.1',
      '1.2',
      '1.10',
      '2.1',
    ]);
    expect(await columns(url, 'person')).toEqual(['id', 'name', 'email', 'city']);
    const rows = await history(url);
    expect(rows.map((r) => [r.version, r.name, r.checksum])).toEqual(
      [
        'V1__Create_person_table.sql',
        'V1.1__Populate_table.sql',
        'V1.2__Add_people.sql',
        'V1.10__Add_email.sql',
        'V2_1__Add_city.sql',
      ].map((f) => {
        const [v, name] = f.slice(1, -4).split('__');
        return [flywayKey(v.split(/[._]/).map(BigInt))!.toString(), name, checksumOf(dir, `migrations/${f}`)];
      }),
    );
    expect((await migrate(dir, url)).result!.applied).toEqual([]);

    const down = await migrate(dir, url, { target: '1.2', allowDestructive: true });
    expect(down.error).toBeUndefined();
    expect(down.result!.applied.map((a) => [a.file, a.direction])).toEqual([
      ['migrations/U2_1__Add_city.sql', 'down'],
      ['migrations/U1.10__Add_email.sql', 'down'],
    ]);
    expect(down.result!.current).toBe('1.2');
    expect(await columns(url, 'person')).toEqual(['id', 'name']);
  });

  it('an applied Flyway migration whose file is gone is named by its version, not its key', async () => {
    const url = server.createDatabase();
    const dir = repo({ 'migrations/V1__a.sql': 'CREATE TABLE a (id int);\n', 'migrations/V1.1__b.sql': 'SELECT 1;\n' });
    await migrate(dir, url);
    rmSync(path.join(dir, 'migrations/V1.1__b.sql'));
    const { error } = await migrate(dir, url);
    expect(error!.message).toMatch(
      /^migration drift: the flyway migration 1\.1 \(b\) was applied .* by run 88 but is no longer in migrations; restore its file/,
    );
  });

  it('the version key keeps Flyway order and equality (1.0 is 1)', () => {
    const key = (v: string) => flywayKey(v.split(/[._]/).map(BigInt))!;
    const ordered = [
      '0.9',
      '1',
      '1.0.1',
      '1.1',
      '1.2',
      '1.10',
      '2',
      '2.0.0.1',
      '10',
      '2024.01.15.1200',
      '20240115120000',
    ];
    const keys = ordered.map(key);
    expect([...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(keys);
    expect(new Set(keys).size).toBe(keys.length);
    expect(key('1.0')).toBe(key('1'));
    expect(keys.map(flywayVersionOfKey)).toEqual(ordered.map((v) => v.split('.').map(Number).join('.')));
    expect(keys.every((k) => k < 2n ** 63n)).toBe(true);
  });

  it('reads sub-folders as Flyway scans them, and a .sql.conf with executeInTransaction=false', async () => {
    const url = server.createDatabase();
    const dir = repo({
      'db/migration/v1/V1__Create_person.sql': 'create table PERSON (ID int not null, NAME varchar(100));\n',
      'db/migration/v2/V2__Add_people.sql': "insert into PERSON (ID, NAME) values (1, 'Axel');\n",
      'db/migration/v2/V2__Add_people.sql.conf': 'executeInTransaction=false\n',
    });
    const { result, error } = await migrate(dir, url, { dir: 'db/migration' });
    expect(error).toBeUndefined();
    expect(result!.applied.map((a) => [a.file, a.transaction])).toEqual([
      ['db/migration/v1/V1__Create_person.sql', true],
      ['db/migration/v2/V2__Add_people.sql', false],
    ]);
  });

  it('a repeatable migration is refused in one line pointing to tool: command with flyway', async () => {
    const url = server.createDatabase();
    const dir = repo({
      'migrations/V1__a.sql': 'CREATE TABLE a (id int);\n',
      'migrations/R__people_view.sql': 'CREATE OR REPLACE VIEW v AS SELECT 1;\n',
    });
    const { error } = await migrate(dir, url);
    expect(error!.message).toMatch(
      /^migrations\/R__people_view\.sql: a Flyway repeatable migration; .*tool: command.*flyway/,
    );
    expect(await tables(url)).toEqual([]);
  });
});

describe('Prisma', () => {
  it('reads <dir>/<timestamp>_<name>/migration.sql in timestamp order', async () => {
    const url = server.createDatabase();
    const files = {
      'prisma/migrations/migration_lock.toml': '# Please do not edit this file manually\nprovider = "postgresql"\n',
      'prisma/migrations/20240101120000_init/migration.sql': `-- CreateTable
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
`,
      'prisma/migrations/20240102090000_add_post/migration.sql': `-- CreateTable
CREATE TABLE "Post" (
    "id" SERIAL NOT NULL,
    "title" TEXT NOT NULL,
    "authorId" INTEGER NOT NULL,

    CONSTRAINT "Post_pkey" PRIMARY KEY ("id")
);

-- AddForeignKey
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
`,
    };
    const dir = repo(files);
    const { result, error } = await migrate(dir, url, { dir: 'prisma/migrations' });
    expect(error).toBeUndefined();
    expect(result!.applied.map((a) => [a.file, a.name])).toEqual([
      ['prisma/migrations/20240101120000_init/migration.sql', 'init'],
      ['prisma/migrations/20240102090000_add_post/migration.sql', 'add_post'],
    ]);
    expect(await tables(url)).toEqual(['Post', 'User', 'slipway_migrations']);
    expect((await history(url)).map((r) => r.checksum)).toEqual(
      Object.keys(files)
        .filter((f) => f.endsWith('.sql'))
        .map((f) => checksumOf(dir, f)),
    );
    expect((await migrate(dir, url, { dir: 'prisma/migrations' })).result!.applied).toEqual([]);
  });
});

describe('detection and files that belong to no format', () => {
  it('a file of no format is an error naming it, never skipped', async () => {
    const url = server.createDatabase();
    const dir = repo({
      'migrations/1_a.sql': 'CREATE TABLE a (id int);\n',
      'migrations/2_seed.py': 'print("seed")\n',
    });
    const { error } = await migrate(dir, url);
    expect(error!.message).toMatch(/^migrations\/2_seed\.py: not a slipway migration .*tool: command/);
    expect(await tables(url)).toEqual([]);
  });

  it('migrate.format overrides detection', async () => {
    const url = server.createDatabase();
    const dir = repo({ 'migrations/1_a.sql': '-- +goose Up\nCREATE TABLE a (id int);\n' });
    const { result, error } = await migrate(dir, url, { format: 'slipway' });
    expect(error).toBeUndefined();
    expect(result!.applied.map((a) => a.name)).toEqual(['a']);
  });
});

describe('migrate.format in the policy file', () => {
  it("deploy's migrations step reads the folder in the format the component names", async () => {
    const url = server.createDatabase();
    // Detected, this is goose's and only its Up runs; the policy says it is Slipway's own: one whole file.
    const dir = repo({
      'db/1_a.sql': '-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nCREATE TABLE b (id int);\n',
      '.github/slipway.yml':
        'components:\n  schema:\n    migrate: { dir: db, format: slipway, database: { env: APP_DB } }\n',
    });
    const config = await loadConfig(dir, '');
    expect(config.components.schema.migrate?.format).toBe('slipway');
    const runtime = createMemoryRuntime({ cwd: dir, env: { APP_DB: url, PATH: process.env.PATH } });
    const outcome = await migrationsStep({ backupDir: path.join(dir, 'backups') })({
      component: config.components.schema,
      environment: 'production',
      version: '1.0.0',
      runtime,
    });
    expect(outcome.applied).toEqual(['db/1_a.sql']);
    expect(await tables(url)).toEqual(['a', 'b', 'slipway_migrations']);
  });

  it("the action's format input wins over the policy file's, and the outputs carry Flyway versions as written", async () => {
    const url = server.createDatabase();
    const dir = repo({
      'migrations/V1__a.sql': 'CREATE TABLE a (id int);\n',
      'migrations/V1.1__b.sql': 'CREATE TABLE b (id int);\n',
      '.github/slipway.yml':
        'components:\n  schema:\n    migrate: { dir: migrations, format: goose, database: { env: APP_DB } }\n',
    });
    const rt = createMemoryRuntime({ cwd: dir, env: { APP_DB: url, PATH: process.env.PATH } });
    const run = (inputs: Record<string, string>) =>
      invokeActionSettled(migrateAction as unknown as ActionDefinition<InputFields>, inputs, rt);
    // The policy file's goose cannot read V files.
    expect(((await run({})).error as Error).message).toMatch(/^migrations\/V1\.1__b\.sql: not a goose migration/);
    const done = await run({ format: 'flyway' });
    expect(done.error).toBeUndefined();
    expect(done.outputs.current).toBe('1.1');
    expect(JSON.parse(done.outputs.applied).map((a: { version: string }) => a.version)).toEqual(['1', '1.1']);
  });

  it('an unknown format is a located config error', async () => {
    const dir = repo({
      '.github/slipway.yml': 'components:\n  schema:\n    migrate: { dir: db, format: liquibase }\n',
    });
    await expect(loadConfig(dir, '')).rejects.toThrow(/\.github\/slipway\.yml:3.*format/);
  });
});

describe('migration files outside the workspace', () => {
  const outside: string[] = [];
  afterAll(() => outside.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const elsewhere = (): string => {
    const d = mkdtempSync(path.join(tmpdir(), 'slipway-outside-'));
    outside.push(d);
    writeFileSync(path.join(d, '1_evil.sql'), 'SECRETTOKEN;\n');
    return d;
  };

  it('refuses dir: ../outside and an absolute dir outside, naming it, before reading', async () => {
    const url = server.createDatabase();
    const dir = repo({ 'migrations/1_a.sql': 'CREATE TABLE a (id int);\n' });
    const away = elsewhere();
    const relative = path.relative(dir, away);
    for (const d of [relative, away]) {
      const { error } = await migrate(dir, url, { dir: d });
      expect(isUserError(error)).toBe(true);
      expect(error!.message).toContain(`the migrations folder ${relative} is outside the workspace`);
      expect(error!.message).not.toContain('SECRETTOKEN');
    }
    expect(await tables(url)).toEqual([]);
  });

  it('refuses a committed symlink to a file or folder outside, naming the link, without its content', async () => {
    const url = server.createDatabase();
    const away = elsewhere();
    const dir = repo({ 'migrations/1_a.sql': 'CREATE TABLE a (id int);\n' });
    symlinkSync(path.join(away, '1_evil.sql'), path.join(dir, 'migrations', '2_evil.sql'));
    const file = await migrate(dir, url);
    expect(file.error!.message).toMatch(
      /^migration file migrations\/2_evil\.sql resolves to .*1_evil\.sql, which is outside the workspace/,
    );
    expect(file.error!.message).not.toContain('SECRETTOKEN');

    const linked = repo({});
    symlinkSync(away, path.join(linked, 'migrations'));
    const folder = await migrate(linked, url);
    expect(folder.error!.message).toMatch(
      /^input "dir": the migrations folder migrations resolves to .* outside the workspace/,
    );
    expect(await tables(url)).toEqual([]);
  });

  it('a link to nothing is an error naming it', async () => {
    const url = server.createDatabase();
    const dir = repo({ 'migrations/1_a.sql': 'CREATE TABLE a (id int);\n' });
    symlinkSync(path.join(dir, 'gone.sql'), path.join(dir, 'migrations', '2_gone.sql'));
    const { error } = await migrate(dir, url);
    expect(isUserError(error)).toBe(true);
    expect(error!.message).toBe('migrations/2_gone.sql: cannot read it (ENOENT: a link to nothing?)');
  });

  it('a symlink inside the workspace is read', async () => {
    const url = server.createDatabase();
    const dir = repo({ 'db/1_a.sql': 'CREATE TABLE a (id int);\n' });
    symlinkSync(path.join(dir, 'db'), path.join(dir, 'migrations'));
    const { error, result } = await migrate(dir, url);
    expect(error).toBeUndefined();
    expect(result!.applied).toHaveLength(1);
  });
});

describe('line endings', () => {
  it('a CRLF-only change to an applied migration is not drift; a real change still is', async () => {
    const url = server.createDatabase();
    const crlf = 'CREATE TABLE a (id int);\r\nCREATE TABLE b (id int);\r\n';
    const dir = repo({ 'migrations/1_a.sql': crlf });
    expect((await migrate(dir, url)).error).toBeUndefined();
    const lf = crlf.replace(/\r\n/g, '\n');
    expect((await history(url))[0].checksum).toBe(sha(lf));
    write(dir, { 'migrations/1_a.sql': lf });
    const again = await migrate(dir, url);
    expect(again.error).toBeUndefined();
    expect(again.result!.applied).toEqual([]);
    write(dir, { 'migrations/1_a.sql': lf.replace('b (id int)', 'b (id bigint)') });
    expect((await migrate(dir, url)).error!.message).toMatch(/^migration drift: migrations\/1_a\.sql changed/);
  });

  it('accepts a checksum recorded the old way (raw CRLF bytes) after the file became LF, and the raw bytes of the same file', async () => {
    const url = server.createDatabase();
    const crlf = 'CREATE TABLE a (id int);\r\n';
    const dir = repo({ 'migrations/1_a.sql': crlf, 'migrations/2_b.sql': 'CREATE TABLE b (id int);\r\n' });
    expect((await migrate(dir, url)).error).toBeUndefined();
    // As a history written before normalisation has them: sha256 of the bytes.
    await sql(url, 'UPDATE slipway_migrations SET checksum = $1 WHERE version = 1', [sha(crlf)]);
    await sql(url, 'UPDATE slipway_migrations SET checksum = $1 WHERE version = 2', [
      sha('CREATE TABLE b (id int);\r\n'),
    ]);
    write(dir, { 'migrations/1_a.sql': crlf.replace(/\r\n/g, '\n') });
    const { error, result } = await migrate(dir, url);
    expect(error).toBeUndefined();
    expect(result!.applied).toEqual([]);
  });
});
