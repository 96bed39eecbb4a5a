/**
 * bench/smoke-test: HTTP checks against a local server (in its own process) that answers each
 * request after 100 ms. Each contender is a cold process, as a runner starts it:
 *   - slipway: the bundled action (node dist/smoke-test/index.js) with its default settings,
 *     then with concurrency 50;
 *   - a peer: the 15-line `fetch` pool a user would otherwise write (same checks: status 200
 *     and a JSON field), at the same concurrency;
 *   - the ideal: checks / concurrency × delay, what no tool can beat.
 * Runs alternate the contenders; medians are printed as a table with the machine's load.
 *
 *   npm run bundle -- smoke-test && npx tsx bench/smoke-test/run.ts [--checks 500] [--delay 100] [--runs 5]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const CHECKS = arg('checks', 500);
const DELAY = arg('delay', 100);
const RUNS = arg('runs', 5);
/** smoke-test's default `concurrency` input. */
const DEFAULT_CONCURRENCY = 10;

const SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => setTimeout(() => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"status":"ok"}');
}, ${DELAY}));
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

/** The peer: what a user writes instead of a smoke-test action (URLs in argv[1], concurrency in argv[2]). */
const PEER = `
const urls = JSON.parse(process.argv[1]);
const limit = Number(process.argv[2]);
let next = 0, failed = 0;
async function worker() {
  while (next < urls.length) {
    const url = urls[next++];
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(60000) });
      const body = await res.json();
      if (res.status !== 200 || body.status !== 'ok') failed++;
    } catch { failed++; }
  }
}
Promise.all(Array.from({ length: limit }, worker)).then(() => process.exit(failed ? 1 : 0));
`;

function startServer(): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.once('error', reject);
    child.stdout!.once('data', (d) => resolve({ child, url: `http://127.0.0.1:${String(d).trim()}` }));
  });
}

const checksYaml = Array.from(
  { length: CHECKS },
  (_, i) => `- name: check ${i}\n  http: /item/${i}\n  expect: { status: 200, json: { status: ok } }`,
).join('\n');

/** Wall time of a process in ms; throws when it fails. */
async function timed(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  const start = performance.now();
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: 'ignore' });
    child.on('close', (c) => resolve(c ?? -1));
  });
  const ms = performance.now() - start;
  if (code !== 0) throw new Error(`${args[0]} exited with ${code}`);
  return ms;
}

function action(url: string, dir: string, concurrency: number | null): Promise<number> {
  const out = path.join(dir, 'output');
  writeFileSync(out, '');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    GITHUB_WORKSPACE: dir,
    GITHUB_OUTPUT: out,
    INPUT_CHECKS: checksYaml,
    INPUT_URL: url,
  };
  if (concurrency !== null) env.INPUT_CONCURRENCY = String(concurrency);
  return timed([path.join(ROOT, 'dist/smoke-test/index.js')], env, dir);
}

function peer(url: string, dir: string, concurrency: number): Promise<number> {
  const urls = Array.from({ length: CHECKS }, (_, i) => `${url}/item/${i}`);
  return timed(['-e', PEER, JSON.stringify(urls), String(concurrency)], { PATH: process.env.PATH ?? '' }, dir);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const server = await startServer();
mkdirSync(path.join(ROOT, 'bench/.work'), { recursive: true });
const dir = mkdtempSync(path.join(ROOT, 'bench/.work', 'smoke-test-'));
const loadBefore = os.loadavg()[0];
const rows: string[] = [];
try {
  for (const [label, concurrency] of [
    [`default (concurrency ${DEFAULT_CONCURRENCY})`, null],
    ['concurrency 50', 50],
  ] as const) {
    const n = concurrency ?? DEFAULT_CONCURRENCY;
    const ideal = Math.ceil(CHECKS / n) * DELAY;
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      // Alternate who runs first.
      if (i % 2) theirs.push(await peer(server.url, dir, n));
      ours.push(await action(server.url, dir, concurrency));
      if (!(i % 2)) theirs.push(await peer(server.url, dir, n));
    }
    const o = median(ours);
    const t = median(theirs);
    rows.push(
      `| ${label} | ${ideal} ms | ${o.toFixed(0)} ms (${(o / ideal).toFixed(2)}× ideal) | ${t.toFixed(0)} ms (${(t / ideal).toFixed(2)}× ideal) | **${(o / t).toFixed(2)}×** |`,
    );
  }
} finally {
  server.child.kill();
  rmSync(dir, { recursive: true, force: true });
}
const loadAfter = os.loadavg()[0];
console.log(`${CHECKS} HTTP checks, ${DELAY} ms each; cold processes; medians of ${RUNS} alternated runs`);
console.log(
  `load average (1 min): ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after, on ${os.cpus().length} cores`,
);
console.log('');
console.log('| scenario | ideal | slipway (bundled action) | peer: 15-line fetch pool | slipway / peer |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
