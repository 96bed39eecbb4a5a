/** Shared by the migrations tests: a repository folder, a run of the built-in runner, SQL, a wait. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createMemoryRuntime, type MemoryRuntime } from '../../src/core/memory-runtime.js';
import { runMigrations, type MigrateOptions, type MigrationResult } from '../../src/migrations/runner.js';

const made: string[] = [];

/** A repository folder with `files` (paths relative to it, folders made as needed). */
export function repo(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-formats-'));
  made.push(dir);
  write(dir, files);
  return dir;
}

/** A repository folder whose `migrations/` holds `files` (name → SQL); removed by cleanRepos. */
export function migrationsRepo(files: Record<string, string>): string {
  const dir = repo({});
  mkdirSync(path.join(dir, 'migrations'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, 'migrations', name), text);
  return dir;
}

/** Write (or overwrite) files of a repository folder. */
export function write(dir: string, files: Record<string, string | Buffer>): void {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
}

/** Remove every folder `repo` made; for afterEach. */
export function cleanRepos(): void {
  while (made.length) rmSync(made.pop()!, { recursive: true, force: true });
}

/** What one run of the built-in runner gave: its result, or the error instead of a throw. */
export type RunnerRun = { result?: MigrationResult; error?: Error; rt: MemoryRuntime };

/** Run the built-in runner over `cwd` as run 88 (`env` adds to that); the error instead of a throw. */
export async function migrate(
  cwd: string,
  url: string,
  options: Partial<MigrateOptions> = {},
  env: NodeJS.ProcessEnv = {},
): Promise<RunnerRun> {
  const rt = createMemoryRuntime({ cwd, env: { GITHUB_RUN_ID: '88', ...env } });
  try {
    const result = await runMigrations({ dir: 'migrations', databaseUrl: url, lockTimeoutMs: 10_000, ...options }, rt);
    return { result, rt };
  } catch (error) {
    return { error: error as Error, rt };
  }
}

/** Rows of one query on a fresh connection. */
export async function sql<T = Record<string, unknown>>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** The history table's rows, in version order. */
export function history(
  url: string,
): Promise<{ version: string; name: string; checksum: string; applied_by: string }[]> {
  return sql(
    url,
    'SELECT version::text AS version, name, checksum, applied_by FROM slipway_migrations ORDER BY slipway_migrations.version',
  );
}

/** The columns of a table, in order. */
export async function columns(url: string, table: string): Promise<string[]> {
  const rows = await sql<{ c: string }>(
    url,
    'SELECT column_name AS c FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position',
    [table],
  );
  return rows.map((r) => r.c);
}

/** Tables of the public schema. */
export async function tables(url: string): Promise<string[]> {
  return (
    await sql<{ t: string }>(url, "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
  ).map((r) => r.t);
}

/** `migrate` as workflow run `runId` (the history's applied_by says "run <runId>"). */
export function migrateAs(runId: string) {
  return (cwd: string, url: string, options: Partial<MigrateOptions> = {}, env: NodeJS.ProcessEnv = {}) =>
    migrate(cwd, url, options, { GITHUB_RUN_ID: runId, ...env });
}

/** Wait until `check` holds, polling every 50 ms; an error naming `what` after `ms`. */
export async function until(check: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
