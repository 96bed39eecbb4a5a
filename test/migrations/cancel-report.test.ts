/**
 * A cancelled migrate (SIGINT, as a runner cancels a job) still sets its outputs and writes its
 * summary before it exits, so an `if: always()` step sees what was applied. The action's
 * sources run as a process of their own (through tsx), signalled for real: the process exits
 * once its cleanups are done, which is what the outputs must not miss.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { lockKey } from '../../src/migrations/lock.js';
import { ROOT } from '../helpers/run-action.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { cleanRepos, migrationsRepo, sql, until } from '../helpers/migrate-repo.js';

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

/** Parse GITHUB_OUTPUT (name=value and heredoc forms). */
function outputsOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i]);
    if (!heredoc) continue;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) body.push(lines[i]);
    out[heredoc[1]] = body.join('\n');
  }
  return out;
}

/** The migrate action's sources as a runner runs an action: INPUT_*, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY. */
function startMigrate(dir: string, url: string, inputs: Record<string, string> = {}) {
  const runner = mkdtempSync(path.join(tmpdir(), 'slipway-runner-'));
  dirs.push(runner);
  const files = { GITHUB_OUTPUT: path.join(runner, 'out'), GITHUB_STEP_SUMMARY: path.join(runner, 'summary') };
  for (const f of Object.values(files)) writeFileSync(f, '');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: runner,
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: dir,
    GITHUB_RUN_ID: '93',
    RUNNER_TEMP: runner,
    ...files,
    'INPUT_DATABASE-URL': url,
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', path.join(ROOT, 'node_modules/tsx/dist/loader.mjs'), path.join(ROOT, 'src/actions/migrate.ts')],
    { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    outputs: () => outputsOf(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    summary: () => readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
  };
}

describe('a cancelled run', () => {
  it('mid-migration: the outputs list what was applied before it, and the summary the cancelled and pending ones', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({
      '1_first.sql': 'CREATE TABLE first (id int);\n',
      '2_slow.sql': 'CREATE TABLE slow (id int);\nSELECT pg_sleep(60);\n',
      '3_last.sql': 'CREATE TABLE last (id int);\n',
    });
    const run = startMigrate(dir, url);
    try {
      const sleeping =
        "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND state = 'active' AND pid <> pg_backend_pid()";
      await until(
        async () => run.child.exitCode !== null || (await sql(url, sleeping)).length > 0,
        60_000,
        'the slow statement',
      );
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(130);
    } finally {
      run.child.kill('SIGKILL');
    }
    expect(run.output()).toContain('migrations/2_slow.sql: migration cancelled (SIGINT); rolled back');
    const outputs = run.outputs();
    expect(JSON.parse(outputs.applied)).toEqual([
      expect.objectContaining({ version: '1', file: 'migrations/1_first.sql', direction: 'up' }),
    ]);
    expect(outputs).toMatchObject({ pending: '2', current: '1', backup: '', findings: '[]' });
    const summary = run.summary();
    expect(summary).toContain('| `migrations/1_first.sql` | applied |');
    expect(summary).toContain('| `migrations/2_slow.sql` | cancelled |');
    expect(summary).toContain('| `migrations/3_last.sql` | pending |');
    expect(summary).toContain('**Cancelled:** migrations/2_slow.sql: migration cancelled (SIGINT)');
  }, 90_000);

  it('while waiting for the lock: stops waiting at once, sets applied (nothing) and says so in the summary', async () => {
    const url = server.createDatabase();
    const dir = migrationsRepo({ '1_first.sql': 'CREATE TABLE first (id int);\n' });
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1, $2)', [0x534c4950, lockKey('public.slipway_migrations')]);
    const run = startMigrate(dir, url, { 'lock-timeout': '120' });
    let exitedWithin = -1;
    try {
      await until(
        () => run.child.exitCode !== null || run.output().includes('Waiting for the migration lock'),
        60_000,
        'the run to wait for the lock',
      );
      const sent = Date.now();
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(130);
      exitedWithin = Date.now() - sent;
    } finally {
      run.child.kill('SIGKILL');
      await holder.end();
    }
    // Well before the lock wait's 5 s slice would have ended on its own.
    expect(exitedWithin).toBeLessThan(4_000);
    expect(run.outputs()).toEqual({ applied: '[]', backup: '', 'backup-location': '', findings: '[]' });
    expect(run.summary()).toContain('## Migrations (not run: the lock was not taken)');
    expect(run.summary()).toContain(
      'cancelled (SIGINT) while waiting for the migration lock on slipway_migrations; nothing was applied',
    );
    expect(await sql(url, "SELECT 1 FROM pg_tables WHERE tablename = 'first'")).toEqual([]);
  }, 90_000);
});
