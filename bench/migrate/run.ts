/**
 * bench/migrate: 1,000 small SQL migrations applied to an empty database, by Slipway's
 * built-in runner and by node-pg-migrate, on the same PostgreSQL server (started here, as
 * the tests start theirs) in one run. Each tool gets a fresh database per round; rounds
 * alternate the tools and the median is compared. node-pg-migrate runs twice: with its
 * default (all pending migrations in one transaction) and with one transaction per
 * migration, which is the guarantee Slipway gives. Target: no slower.
 *
 *   npx tsx bench/migrate/run.ts [--migrations 1000] [--rounds 5]
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { runMigrations } from '../../src/migrations/runner.js';
import { startPostgres } from '../../test/helpers/postgres.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const COUNT = arg('migrations', 1000);
const ROUNDS = arg('rounds', 5);

const work = path.join(ROOT, 'bench/.work/migrate');
const dir = path.join(work, 'migrations');
rmSync(work, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
for (let i = 1; i <= COUNT; i++) {
  const n = String(i).padStart(4, '0');
  // Small but real: a table, an index and a row each.
  writeFileSync(
    path.join(dir, `${n}_step_${n}.sql`),
    `CREATE TABLE t_${n} (id int PRIMARY KEY, v text NOT NULL);\nCREATE INDEX t_${n}_v ON t_${n} (v);\nINSERT INTO t_${n} VALUES (${i}, 'row ${i}');\n`,
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function ours(url: string): Promise<number> {
  const rt = createMemoryRuntime({ cwd: work, env: {} });
  const start = performance.now();
  const result = await runMigrations({ dir: 'migrations', databaseUrl: url }, rt);
  const ms = performance.now() - start;
  if (result.applied.length !== COUNT) throw new Error(`slipway applied ${result.applied.length} of ${COUNT}`);
  return ms;
}

async function peer(url: string, singleTransaction: boolean): Promise<number> {
  const start = performance.now();
  const done = await runner({
    databaseUrl: url,
    dir,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    count: Infinity,
    singleTransaction,
    log: () => undefined,
  });
  const ms = performance.now() - start;
  if (done.length !== COUNT) throw new Error(`node-pg-migrate applied ${done.length} of ${COUNT}`);
  return ms;
}

const server = await startPostgres();
try {
  const contenders: [string, (url: string) => Promise<number>][] = [
    ['slipway', ours],
    ['node-pg-migrate (one transaction per migration)', (url) => peer(url, false)],
    ['node-pg-migrate (default: one transaction for all)', (url) => peer(url, true)],
  ];
  const times: Record<string, number[]> = Object.fromEntries(contenders.map(([name]) => [name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    // Rotate who goes first so a warming or busy server favours no one.
    for (let k = 0; k < contenders.length; k++) {
      const [name, fn] = contenders[(r + k) % contenders.length];
      times[name].push(await fn(server.createDatabase()));
    }
  }
  const base = median(times.slipway);
  console.log(`${COUNT} migrations, ${ROUNDS} rounds, median wall time (lower is better):`);
  for (const [name, xs] of Object.entries(times)) {
    const m = median(xs);
    console.log(
      `  ${name.padEnd(52)} ${(m / 1000).toFixed(2).padStart(6)} s  (${(m / COUNT).toFixed(2)} ms per migration)${name === 'slipway' ? '' : `  → slipway is ${(m / base).toFixed(2)}× as fast`}`,
    );
  }
} finally {
  server.stop();
}
