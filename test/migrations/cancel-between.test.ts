/**
 * A cancel that lands between two migrations: the next one is not started, and the failure
 * still carries what the run applied (so the outputs and the summary name it), not a bare
 * "cancelled" that loses it. In-process, with the cancel handler fed a SIGINT event at the
 * moment the first migration is reported applied.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { installCancelHandlers } from '../../src/core/cancel.js';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { MigrationFailed, runMigrations } from '../../src/migrations/runner.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

let server: TestPostgres;
let dir: string;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(() => {
  server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('a cancel between two migrations keeps the first as applied in the failure, and never starts the second', async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'slipway-cancel-between-'));
  mkdirSync(path.join(dir, 'migrations'));
  writeFileSync(path.join(dir, 'migrations', '1_a.sql'), 'CREATE TABLE a (id int);\n');
  writeFileSync(path.join(dir, 'migrations', '2_b.sql'), 'CREATE TABLE b (id int);\n');
  const url = server.createDatabase();
  const exits: number[] = [];
  const remove = installCancelHandlers({ info: () => undefined, warning: () => undefined }, (code) => {
    exits.push(code);
  });
  const rt = createMemoryRuntime({ cwd: dir, env: { GITHUB_RUN_ID: '1' } });
  const info = rt.log.info.bind(rt.log);
  rt.log.info = (message: string) => {
    info(message);
    if (message.startsWith('✓ applied migrations/1_a.sql')) process.emit('SIGINT', 'SIGINT');
  };
  let error: unknown;
  try {
    await runMigrations({ dir: 'migrations', databaseUrl: url, lockTimeoutMs: 10_000 }, rt);
  } catch (err) {
    error = err;
  } finally {
    remove();
  }
  expect(error).toBeInstanceOf(MigrationFailed);
  const failed = error as MigrationFailed;
  expect(failed.message).toMatch(/^cancelled \(SIGINT\): migrations\/2_b\.sql was not started$/);
  expect(failed.result.applied.map((m) => m.file)).toEqual(['migrations/1_a.sql']);
  expect(failed.result.pending).toBe(1);

  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const tables = await c.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('a', 'b') ORDER BY 1",
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(['a']);
  } finally {
    await c.end();
  }
});
