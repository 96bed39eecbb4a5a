/** The bundled migrate action as a runner runs it, against a real PostgreSQL server, including a run killed mid-migration. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { errorLines, ROOT, runBundledAction } from '../helpers/run-action.js';
import { startPostgres, TEST_PG_PASSWORD, type TestPostgres } from '../helpers/postgres.js';
import { cleanRepos, repo, sql, until } from '../helpers/migrate-repo.js';

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

/** The output without the ::add-mask:: commands that register secrets with the runner. */
const shown = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n');

/** The bundled migrate action started as a runner starts it, with its output collected as it comes. */
function startMigrate(dir: string, url: string, runId: string): { child: ChildProcess; output: () => string } {
  const runner = mkdtempSync(path.join(tmpdir(), 'slipway-runner-'));
  dirs.push(runner);
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/migrate/index.js')], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      GITHUB_WORKSPACE: dir,
      GITHUB_RUN_ID: runId,
      RUNNER_TEMP: runner,
      GITHUB_OUTPUT: path.join(runner, 'out'),
      'INPUT_DATABASE-URL': url,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return { child, output: () => output };
}

describe('the bundled action', () => {
  it('reads the policy file, applies, sets the outputs, annotates findings and writes the summary; never the password', async () => {
    const url = server.createDatabase();
    const dir = repo({
      '.github/slipway.yml':
        'components:\n  schema:\n    kind: migrations\n    migrate: { dir: db/migrations, database: { env: APP_DB } }\n',
      'db/migrations/001_users.sql': 'CREATE TABLE users (id int, name text);\n',
      'db/migrations/002_rename.sql': '\nALTER TABLE users RENAME COLUMN name TO full_name;\n',
    });
    // The first version is already live: 002's rename then breaks it.
    await sql(url, 'SELECT 1');
    const first = await runBundledAction('migrate', { cwd: dir, inputs: { target: '1' }, env: { APP_DB: url } });
    expect(first.code).toBe(0);
    const run = await runBundledAction('migrate', { cwd: dir, env: { APP_DB: url } });
    expect(errorLines(run)).toEqual([]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.outputs.applied)).toEqual([
      expect.objectContaining({
        version: '002',
        name: 'rename',
        file: 'db/migrations/002_rename.sql',
        direction: 'up',
      }),
    ]);
    expect(run.outputs.pending).toBe('0');
    expect(run.outputs.current).toBe('2');
    expect(run.outputs.backup).toBe('');
    expect(JSON.parse(run.outputs.findings)).toEqual([
      expect.objectContaining({ file: 'db/migrations/002_rename.sql', line: 2, rule: 'rename', destructive: false }),
    ]);
    expect(run.stdout).toMatch(
      /^::warning title=migration lint%3A rename,file=db\/migrations\/002_rename\.sql,line=2::db\/migrations\/002_rename\.sql:2: RENAME of column users\.name/m,
    );
    expect(run.summary).toContain('| migration | state | duration |');
    expect(run.summary).toMatch(/\| 1_users \| applied before \(run 1001\) \|/);
    expect(run.summary).toMatch(/\| `db\/migrations\/002_rename\.sql` \| applied \|/);
    // ::add-mask:: is how the runner learns the secret; every other line must be clean.
    expect(shown(run.stdout) + run.stderr + run.summary).not.toContain(TEST_PG_PASSWORD);
  });

  it('fails with one ::error:: line on a wrong password, a failing statement and a missing URL, never showing the password', async () => {
    const url = server.createDatabase();
    const dir = repo({ 'migrations/1_bad.sql': 'CREATE TABLE t (id int);\nSELECT nope FROM t;\n' });
    const wrong = url.replace(encodeURIComponent(TEST_PG_PASSWORD), 'Wr0ng-pw');
    const badPassword = await runBundledAction('migrate', { cwd: dir, inputs: { 'database-url': wrong } });
    expect(badPassword.code).toBe(1);
    expect(errorLines(badPassword)).toEqual([
      expect.stringMatching(
        /^::error ::input "database-url": cannot connect to PostgreSQL at 127\.0\.0\.1:\d+\/test_\w+: password authentication failed/,
      ),
    ]);
    expect(shown(badPassword.stdout) + badPassword.stderr).not.toMatch(/Wr0ng-pw|at .*\.js:\d+/);

    const failing = await runBundledAction('migrate', { cwd: dir, inputs: { 'database-url': url } });
    expect(failing.code).toBe(1);
    expect(errorLines(failing)).toEqual([
      expect.stringMatching(
        /^::error file=migrations\/1_bad\.sql,line=2::migrations\/1_bad\.sql:2: migration failed: column "nope" does not exist \(SQLSTATE 42703\)/,
      ),
    ]);
    expect(shown(failing.stdout) + failing.stderr).not.toContain(TEST_PG_PASSWORD);

    const missing = await runBundledAction('migrate', { cwd: dir, inputs: {} });
    expect(errorLines(missing)).toEqual([
      '::error ::input "database-url" is empty and the variable DATABASE_URL (read when the input is empty) is not set; expected the PostgreSQL URL to migrate, from a secret',
    ]);
  });

  it('a refused run still sets findings, pending and current, and its one error line names both ways to allow it', async () => {
    const url = server.createDatabase();
    const dir = repo({
      '.github/slipway.yml':
        'components:\n  schema:\n    kind: migrations\n    migrate: { dir: db, database: { env: APP_DB } }\n',
      'db/1_users.sql': 'CREATE TABLE users (id int, legacy text);\n',
    });
    expect((await runBundledAction('migrate', { cwd: dir, env: { APP_DB: url } })).code).toBe(0);
    writeFileSync(path.join(dir, 'db/2_drop.sql'), 'ALTER TABLE users DROP COLUMN legacy;\n');
    const refused = await runBundledAction('migrate', { cwd: dir, env: { APP_DB: url } });
    expect(refused.code).toBe(1);
    // The finding's annotation on its line, then the one line that fails the step.
    expect(errorLines(refused)).toEqual([
      expect.stringMatching(/^::error title=migration lint%3A drop-column,file=db\/2_drop\.sql,line=1::/),
      expect.stringMatching(
        /^::error file=db\/2_drop\.sql,line=1::db\/2_drop\.sql:1: 1 destructive statement .*set the input allow-destructive: true, or migrate\.allowDestructive: true on the component in the policy file$/,
      ),
    ]);
    expect(refused.outputs).toMatchObject({ pending: '1', current: '1', applied: '[]', backup: '' });
    expect(JSON.parse(refused.outputs.findings)).toEqual([
      expect.objectContaining({ file: 'db/2_drop.sql', line: 1, rule: 'drop-column', destructive: true }),
    ]);
    expect(shown(refused.stdout) + refused.stderr).not.toContain(TEST_PG_PASSWORD);
  });

  it('keeps PGlite out of the bundle', () => {
    const files = readdirSync(path.join(ROOT, 'dist/migrate'));
    // PostgreSQL's parser (libpg-query.wasm, for the lint) belongs there; PGlite's files do not.
    expect(files.filter((f) => /\.(wasm|data|tar\.gz)$/.test(f) && f !== 'libpg-query.wasm')).toEqual([]);
    const code = readFileSync(path.join(ROOT, 'dist/migrate/index.js'), 'utf8');
    expect(code).not.toContain('@electric-sql');
    expect(code).not.toContain('pglite-database');
  });
});

describe('a run killed mid-migration', () => {
  it('leaves no half-applied migration and no lock: the re-run completes with a consistent history', async () => {
    const url = server.createDatabase();
    // The sleep only happens while slow_flag exists, so the re-run is quick with the same, unchanged file.
    await sql(url, 'CREATE TABLE slow_flag ()');
    const dir = repo({
      'migrations/1_first.sql': 'CREATE TABLE first (id int);\n',
      'migrations/2_slow.sql':
        "CREATE TABLE slow (id int);\nSELECT pg_sleep(CASE WHEN to_regclass('slow_flag') IS NULL THEN 0 ELSE 60 END);\n",
      'migrations/3_last.sql': 'CREATE TABLE last (id int);\n',
    });
    const { child, output } = startMigrate(dir, url, '1');
    let exited = false;
    child.once('exit', () => (exited = true));
    try {
      await until(
        async () =>
          exited ||
          (
            await sql(
              url,
              "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(CASE%' AND state = 'active' AND pid <> pg_backend_pid()",
            )
          ).length > 0,
        30_000,
        'the slow migration to start',
      );
    } finally {
      child.kill('SIGKILL');
    }
    if (!exited) await new Promise((r) => child.once('exit', r));
    expect(output()).not.toMatch(/::error/);
    expect(output()).toContain('Applying 3 migrations');
    // PostgreSQL notices the dead client (client_connection_check_interval) and rolls the migration back.
    await until(
      async () =>
        (await sql(url, "SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'slipway migrate%'")).length === 0,
      30_000,
      'the killed run to be rolled back',
    );
    const afterKill = await sql<{ v: string }>(url, 'SELECT version::text AS v FROM slipway_migrations ORDER BY 1');
    expect(afterKill).toEqual([{ v: '1' }]);
    expect(await sql(url, "SELECT 1 FROM pg_tables WHERE tablename = 'slow'")).toEqual([]);

    await sql(url, 'DROP TABLE slow_flag');
    const rerun = await runBundledAction('migrate', { cwd: dir, inputs: { 'database-url': url, 'lock-timeout': '5' } });
    expect(errorLines(rerun)).toEqual([]);
    expect(JSON.parse(rerun.outputs.applied).map((a: { version: string }) => a.version)).toEqual(['2', '3']);
    const history = await sql<{ v: string }>(url, 'SELECT version::text AS v FROM slipway_migrations ORDER BY version');
    expect(history.map((r) => r.v)).toEqual(['1', '2', '3']);
  });
});

describe('a cancelled run (SIGINT, as a runner cancels a job)', () => {
  /** Start the bundled action on `dir`, wait until PostgreSQL runs its pg_sleep, send SIGINT; its output, exit code and whether a statement still ran as it exited. */
  async function cancelMidStatement(dir: string, url: string) {
    const { child, output } = startMigrate(dir, url, '7');
    const sleeping =
      "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND state = 'active' AND pid <> pg_backend_pid()";
    try {
      await until(
        async () => child.exitCode !== null || (await sql(url, sleeping)).length > 0,
        30_000,
        'the slow statement',
      );
      child.kill('SIGINT');
      await until(async () => child.exitCode !== null, 15_000, 'the cancelled run to exit');
      // Checked the moment the process is gone: the lock is free, so nothing of the run may still run.
      const stillRunning = (await sql(url, sleeping)).length > 0;
      return { code: child.exitCode, output: shown(output()), stillRunning };
    } finally {
      child.kill('SIGKILL');
    }
  }

  it('cancels the running statement on the server and rolls it back before letting go of the lock', async () => {
    const url = server.createDatabase();
    const dir = repo({
      'migrations/1_first.sql': 'CREATE TABLE first (id int);\n',
      'migrations/2_slow.sql': 'CREATE TABLE slow (id int);\nSELECT pg_sleep(60);\n',
      'migrations/3_last.sql': 'CREATE TABLE last (id int);\n',
    });
    const run = await cancelMidStatement(dir, url);
    expect(run.code).toBe(130);
    expect(run.stillRunning).toBe(false);
    expect(run.output).toContain(
      'migrations/2_slow.sql: migration cancelled (SIGINT); rolled back; nothing after it ran',
    );
    expect(run.output).toContain('::error::migrate cancelled');
    expect(await sql(url, "SELECT 1 FROM pg_tables WHERE tablename IN ('slow', 'last')")).toEqual([]);
    const history = await sql<{ v: string }>(url, 'SELECT version::text AS v FROM slipway_migrations ORDER BY 1');
    expect(history).toEqual([{ v: '1' }]);
  });

  it('outside a transaction: says which statements stayed applied and leaves the migration marked unfinished', async () => {
    const url = server.createDatabase();
    const dir = repo({
      'migrations/1_first.sql': 'CREATE TABLE first (id int);\n',
      'migrations/2_split.sql': '-- slipway:no-transaction\nCREATE TABLE split (id int);\nSELECT pg_sleep(60);\n',
    });
    const run = await cancelMidStatement(dir, url);
    expect(run.code).toBe(130);
    expect(run.stillRunning).toBe(false);
    expect(run.output).toContain(
      'migrations/2_split.sql:3: migration cancelled (SIGINT); it runs outside a transaction, so its 1 statement before line 3 stayed applied; nothing after it ran; it is marked unfinished',
    );
    expect(await sql(url, "SELECT 1 AS one FROM pg_tables WHERE tablename = 'split'")).toEqual([{ one: 1 }]);
    // The next run refuses until someone says what the database holds.
    const rerun = await runBundledAction('migrate', { cwd: dir, inputs: { 'database-url': url, 'lock-timeout': '5' } });
    expect(errorLines(rerun)).toEqual([
      expect.stringContaining(
        'migrations/2_split.sql runs outside a transaction and did not finish (started by run 7 at',
      ),
    ]);
    expect(errorLines(rerun)[0]).toContain('statement 1 of 2 ran, statement 2 (line 3) may have run');
  });
});
