/**
 * bench/smoke-test: 500 HTTP checks against a local server (in its own process) that answers
 * each request after 100 ms, at concurrency 50. The ideal is 500 / 50 × 100 ms = 1 s; the
 * script prints our wall time against it, for the engine in-process and for the bundled
 * action started as a runner starts it. Target: within 1.3× the ideal.
 *
 *   npm run bundle -- smoke-test && npx tsx bench/smoke-test/run.ts [--checks 500] [--concurrency 50] [--delay 100] [--runs 5]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { parseYaml } from '../../src/core/yaml-source.js';
import { parseChecks, runChecks } from '../../src/checks/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const CHECKS = arg('checks', 500);
const CONCURRENCY = arg('concurrency', 50);
const DELAY = arg('delay', 100);
const RUNS = arg('runs', 5);
const IDEAL = Math.ceil(CHECKS / CONCURRENCY) * DELAY;

const SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => setTimeout(() => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"status":"ok"}');
}, ${DELAY}));
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
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

async function engineOnce(url: string): Promise<number> {
  const src = parseYaml(checksYaml, 'bench');
  const checks = parseChecks(src.value, src);
  const rt = createMemoryRuntime();
  const start = performance.now();
  const results = await runChecks(
    checks,
    { timeoutMs: 60_000, retries: 0, intervalMs: 1000, concurrency: CONCURRENCY, baseUrl: url, env: {} },
    rt,
  );
  const ms = performance.now() - start;
  const failed = results.filter((r) => !r.passed);
  if (failed.length) throw new Error(`${failed.length} checks failed: ${failed[0].message}`);
  return ms;
}

async function bundleOnce(url: string, dir: string, yaml = checksYaml): Promise<number> {
  const out = path.join(dir, 'output');
  writeFileSync(out, '');
  const env = {
    PATH: process.env.PATH ?? '',
    GITHUB_WORKSPACE: dir,
    GITHUB_OUTPUT: out,
    INPUT_CHECKS: yaml,
    INPUT_URL: url,
    INPUT_CONCURRENCY: String(CONCURRENCY),
    INPUT_RETRIES: '0',
  };
  const start = performance.now();
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/smoke-test/index.js')], {
      cwd: dir,
      env,
      stdio: 'ignore',
    });
    child.on('close', (c) => resolve(c ?? -1));
  });
  const ms = performance.now() - start;
  if (code !== 0) throw new Error(`the bundled action exited with ${code}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const server = await startServer();
mkdirSync(path.join(ROOT, 'bench/.work'), { recursive: true });
const dir = mkdtempSync(path.join(ROOT, 'bench/.work', 'smoke-test-'));
try {
  await engineOnce(server.url); // warm-up: JIT and the connection pool
  const engine: number[] = [];
  const bundle: number[] = [];
  const single: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    engine.push(await engineOnce(server.url));
    bundle.push(await bundleOnce(server.url, dir));
    single.push(await bundleOnce(server.url, dir, '- http: /one'));
  }
  const e = median(engine);
  const b = median(bundle);
  const one = median(single);
  console.log(`${CHECKS} checks, ${DELAY} ms each, concurrency ${CONCURRENCY}: ideal ${IDEAL} ms`);
  console.log(
    `engine (runChecks, in-process): median ${Math.round(e)} ms over ${RUNS} runs → ${(e / IDEAL).toFixed(2)}× ideal`,
  );
  console.log(
    `bundled action (node dist/smoke-test/index.js): median ${Math.round(b)} ms → ${(b / IDEAL).toFixed(2)}× ideal`,
  );
  console.log(
    `  of which a process's fixed cost (node start, bundle load: a one-check run less its ${DELAY} ms wait): median ${Math.round(one - DELAY)} ms; without it ${((b - one + DELAY) / IDEAL).toFixed(2)}× ideal`,
  );
  console.log(
    `target 1.3×: ${e / IDEAL <= 1.3 ? 'met' : 'MISSED'} by the engine, ${b / IDEAL <= 1.3 ? 'met' : 'MISSED'} by the bundled action`,
  );
} finally {
  server.child.kill();
  rmSync(dir, { recursive: true, force: true });
}
