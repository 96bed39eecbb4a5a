/**
 * bench/deploy/switch: how long the nginx target takes from "deploy starts" to "traffic on
 * the new version", for the socket and the reload switch, against the critical path no
 * switch can beat: starting the new version and its health check passing (the same slot
 * server, started and polled by hand). A client polls nginx every 5 ms and notes the first
 * answer from the new version. Interleaved rounds, medians of 21; the ratio is the median of
 * each round's own ratio; the load average printed.
 * Target: the ratio at or under 1.2.
 * Run: npx tsx bench/deploy/switch.ts
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { checkEngineGate } from '../../src/deploy/health.js';
import { nginxTarget, upstreamFile } from '../../src/deploy/targets/nginx.js';
import type { TargetContext } from '../../src/deploy/targets/target.js';
import { addressBaseUrl } from '../../src/checks/probes/http.js';
import { parseChecks, type CheckSource } from '../../src/checks/index.js';
import { nginxBin, startNginx, type TestNginx } from '../../test/helpers/nginx.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVER = path.join(ROOT, 'test/fixtures/slot-server.mjs');
const ROUNDS = 21;
const START =
  'nohup node "$SLOT_SERVER" "${SLIPWAY_SLOT_ADDRESS#unix:}" "$SLIPWAY_VERSION" > /dev/null 2>&1 & echo $! > "$WORK/$SLIPWAY_SLOT.pid"';
const STOP = 'kill -TERM "$(cat "$WORK/$SLIPWAY_SLOT.pid")" 2>/dev/null; rm -f "$WORK/$SLIPWAY_SLOT.pid"; true';
const checks = parseChecks([{ http: '/health' }], { errorAt: (_, m) => new Error(m) } as CheckSource);

function get(url: string): Promise<string> {
  return new Promise((resolve) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(res.statusCode === 200 ? body : ''));
      })
      .on('error', () => resolve(''));
  });
}

/** The first moment nginx answers with `version`, polled every 5 ms. */
async function firstAnswer(url: string, version: string, stop: { done: boolean }): Promise<number> {
  while (!stop.done) {
    if ((await get(url)) === version) return performance.now();
    await new Promise((r) => setTimeout(r, 5));
  }
  return Number.NaN;
}

function context(work: string, version: string, previous: string, env: NodeJS.ProcessEnv): TargetContext {
  const rt = createMemoryRuntime({ cwd: work, env });
  return {
    component: 'web',
    version,
    previousVersion: previous,
    environment: 'bench',
    environmentUrl: '',
    sha: 'b'.repeat(40),
    cwd: work,
    runtime: rt,
    onLine: () => undefined,
    checkHealth: (baseUrl) =>
      checkEngineGate({ component: 'web', checks: checks, baseUrl, timeoutMs: 10_000, runtime: rt }),
  };
}

/** The critical path: start the slot server and poll its health until it answers. */
async function criticalPath(work: string): Promise<number> {
  const sock = path.join(work, 'alone.sock');
  const t0 = performance.now();
  const child = spawn(process.execPath, [SERVER, sock, 'alone'], { stdio: 'ignore' });
  const rt = createMemoryRuntime({ cwd: work });
  await checkEngineGate({
    component: 'web',
    checks: checks,
    baseUrl: addressBaseUrl(`unix:${sock}`),
    timeoutMs: 10_000,
    runtime: rt,
  });
  const ms = performance.now() - t0;
  child.kill('SIGKILL');
  return ms;
}

async function switchRound(mode: 'socket' | 'reload', round: number): Promise<number> {
  const work = mkdtempSync(path.join(tmpdir(), 'slipway-bench-switch-'));
  const slots = { blue: `unix:${work}/blue.sock`, green: `unix:${work}/green.sock` };
  let nginx: TestNginx | null = null;
  try {
    const upstream = path.join(work, 'upstream.conf');
    if (mode === 'reload') writeFileSync(upstream, upstreamFile('slipway_web', slots, 'blue', 0));
    nginx =
      mode === 'socket'
        ? await startNginx({ proxyPass: `http://unix:${work}/live.sock:` })
        : await startNginx({ proxyPass: 'http://$slipway_web', httpExtra: `  include ${upstream};` });
    const deploy = {
      target: 'nginx',
      slots,
      start: START,
      stop: STOP,
      drain: 0,
      switch: mode,
      config: nginx.config,
      ...(mode === 'socket' ? { link: `${work}/live.sock` } : { upstream, nginx: nginxBin(), prefix: nginx.prefix }),
    };
    const target = nginxTarget({
      component: { name: 'web' } as never,
      deploy: deploy as never,
      errorAt: (key, message) => new Error(`${key}: ${message}`),
    });
    const env = { ...process.env, SLOT_SERVER: SERVER, WORK: work };
    await target.deploy(context(work, `a${round}`, '', env));
    const stop = { done: false };
    const t0 = performance.now();
    const seen = firstAnswer(nginx.url, `b${round}`, stop);
    await target.deploy(context(work, `b${round}`, `a${round}`, env));
    const at = await Promise.race([seen, new Promise<number>((r) => setTimeout(() => r(Number.NaN), 2000))]);
    stop.done = true;
    return at - t0;
  } finally {
    nginx?.stop();
    for (const slot of ['blue', 'green']) {
      const pid = path.join(work, `${slot}.pid`);
      if (existsSync(pid)) {
        try {
          process.kill(Number(readFileSync(pid, 'utf8')), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    rmSync(work, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const load = loadavg()[0].toFixed(2);
  const times: Record<string, number[]> = { critical: [], socket: [], reload: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const work = mkdtempSync(path.join(tmpdir(), 'slipway-bench-critical-'));
    times.critical.push(await criticalPath(work));
    rmSync(work, { recursive: true, force: true });
    times.socket.push(await switchRound('socket', round));
    times.reload.push(await switchRound('reload', round));
  }
  const critical = median(times.critical);
  console.log(`nginx target: deploy start → traffic on the new version (median of ${ROUNDS}, load ${load})\n`);
  console.log('| switch | time | critical path (start + health) | ratio |');
  console.log('| ------ | ---: | -----------------------------: | ----: |');
  // Each round's switch against the same round's critical path: the machine's drift between
  // rounds (the critical path moves by 50 ms from one run to the next here) cancels out.
  for (const mode of ['socket', 'reload']) {
    const ratio = median(times[mode].map((t, i) => t / times.critical[i]));
    console.log(
      `| ${mode} | ${median(times[mode]).toFixed(0)} ms | ${critical.toFixed(0)} ms | ${ratio.toFixed(2)}× |`,
    );
  }
}

await main();
