/** Shared by the format and adoption tests: a repository folder, a run of the built-in runner, SQL. */
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

/** Run the built-in runner over `cwd`; the error instead of a throw. */
export async function migrate(
  cwd: string,
  url: string,
  options: Partial<MigrateOptions> = {},
): Promise<{ result?: MigrationResult; error?: Error; rt: MemoryRuntime }> {
  const rt = createMemoryRuntime({ cwd, env: { GITHUB_RUN_ID: '88' } });
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
