/**
 * bench/migrate: small SQL migrations applied to an empty database by each tool as a user
 * runs it, as a process, on one PostgreSQL server with its durable defaults (fsync on):
 *   - slipway: the bundled migrate action (node dist/migrate/index.js, default inputs);
 *   - node-pg-migrate's CLI, in its default mode (one transaction for all) and with one
 *     transaction per migration (the guarantee Slipway gives);
 *   - the floor: psql applying the same files in one session and one transaction (one commit,
 *     no history, no lock, no checks: less than any tool that commits each migration can do).
 * Two scenarios: a typical deploy (20 migrations) and a large backlog (1,000). Rounds rotate
 * the order; each tool gets a fresh database per round; medians and ratios are printed as a
 * table with the machine's load.
 *
 *   npm run bundle -- migrate && npx tsx bench/migrate/run.ts [--rounds 5]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from '../../test/helpers/postgres.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const ROUNDS = arg('rounds', 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A folder of `count` migrations in our layout (node-pg-migrate reads the same .sql files). */
function writeMigrations(count: number): { work: string; dir: string; driver: string } {
  const work = mkdtempSync(path.join(os.tmpdir(), `bench-migrate-${count}-`));
  const dir = path.join(work, 'migrations');
  mkdirSync(dir);
  const includes: string[] = [];
  for (let i = 1; i <= count; i++) {
    const n = String(i).padStart(4, '0');
    const file = path.join(dir, `${n}_step_${n}.sql`);
    // Small but real: a table, an index and a row each.
    writeFileSync(
      file,
      `CREATE TABLE t_${n} (id int PRIMARY KEY, v text NOT NULL);\nCREATE INDEX t_${n}_v ON t_${n} (v);\nINSERT INTO t_${n} VALUES (${i}, 'row ${i}');\n`,
    );
    includes.push(`\\i ${file}`);
  }
  const driver = path.join(work, 'all.psql');
  writeFileSync(driver, `${includes.join('\n')}\n`);
  return { work, dir, driver };
}

/** Run a command and return its wall time in ms; throws with its output when it fails. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}\n${r.stdout.slice(-2000)}`);
  return ms;
}

type Contender = [name: string, run: (url: string, m: ReturnType<typeof writeMigrations>) => number];

const contenders: Contender[] = [
  [
    'slipway (bundled action)',
    (url, m) => {
      // A runner creates the file before the step; @actions/core appends to it.
      writeFileSync(path.join(m.work, 'output'), '');
      return timed(
        process.execPath,
        [path.join(ROOT, 'dist/migrate/index.js')],
        {
          ...process.env,
          'INPUT_DATABASE-URL': url,
          INPUT_DIR: 'migrations',
          GITHUB_WORKSPACE: m.work,
          GITHUB_OUTPUT: path.join(m.work, 'output'),
          RUNNER_TEMP: m.work,
        },
        m.work,
      );
    },
  ],
  [
    'node-pg-migrate (default: one transaction)',
    (url, m) =>
      timed(
        process.execPath,
        [path.join(ROOT, 'node_modules/node-pg-migrate/bin/node-pg-migrate.js'), 'up', '-m', m.dir],
        { ...process.env, DATABASE_URL: url },
        m.work,
      ),
  ],
  [
    'node-pg-migrate (a transaction each)',
    (url, m) =>
      timed(
        process.execPath,
        [
          path.join(ROOT, 'node_modules/node-pg-migrate/bin/node-pg-migrate.js'),
          'up',
          '-m',
          m.dir,
          '--no-single-transaction',
        ],
        { ...process.env, DATABASE_URL: url },
        m.work,
      ),
  ],
  [
    'floor: psql, one transaction',
    (url, m) =>
      timed('psql', ['-X', '-q', '-1', '-v', 'ON_ERROR_STOP=1', '-d', url, '-f', m.driver], process.env, m.work),
  ],
];

const server = await startPostgres({ durable: true });
const loadBefore = os.loadavg()[0];
const rows: { scenario: string; times: Record<string, number> }[] = [];
try {
  for (const count of [20, 1000]) {
    const m = writeMigrations(count);
    const times: Record<string, number[]> = Object.fromEntries(contenders.map(([n]) => [n, []]));
    for (let r = 0; r < ROUNDS; r++)
      for (let k = 0; k < contenders.length; k++) {
        const [name, run] = contenders[(r + k) % contenders.length];
        times[name].push(run(server.createDatabase(), m));
      }
    rows.push({
      scenario: `${count} migrations`,
      times: Object.fromEntries(Object.entries(times).map(([n, xs]) => [n, median(xs)])),
    });
    rmSync(m.work, { recursive: true, force: true });
  }
} finally {
  server.stop();
}
const loadAfter = os.loadavg()[0];
console.log(`PostgreSQL 15 with fsync on; medians of ${ROUNDS} rotated rounds; every tool as a process`);
console.log(
  `load average (1 min): ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after, on ${os.cpus().length} cores`,
);
console.log('');
console.log(`| scenario | ${contenders.map(([n]) => n).join(' | ')} |`);
console.log(`| --- | ${contenders.map(() => '---:').join(' | ')} |`);
for (const row of rows) {
  const ours = row.times[contenders[0][0]];
  const cells = contenders.map(([n], i) =>
    i === 0 ? `${ours.toFixed(0)} ms` : `${row.times[n].toFixed(0)} ms (slipway ${(ours / row.times[n]).toFixed(2)}×)`,
  );
  console.log(`| ${row.scenario} | ${cells.join(' | ')} |`);
}
console.log('');
console.log('slipway N× = its time over that contender’s (below 1: faster). Target: at or under 1× node-pg-migrate.');
