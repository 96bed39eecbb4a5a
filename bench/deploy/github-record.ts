/**
 * bench/deploy/github-record: what recording in GitHub Deployments costs a deploy run, over
 * the file ledger. Five components (two waves; the commands sleep, 1.2 s of critical path)
 * deployed by runDeploy, once with the ledger and once with the GitHub record against the
 * OpenAPI-checked test server answering every call after 50 ms (a realistic round trip),
 * through the real client: octokit with retry and throttling, writes spaced a second apart
 * as GitHub asks. Runs interleaved, median of 7, each round a newer version on the same
 * environment (so the history read back grows, as in use).
 * Run: npx tsx bench/deploy/github-record.ts
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { inputVariable, parseInputs } from '../../src/core/inputs.js';
import { runDeploy } from '../../src/deploy/deploy.js';
import { deployInputs } from '../../src/deploy/inputs.js';
import { FileLedger } from '../../src/deploy/record/file-ledger.js';
import { chooseRecord } from '../../src/deploy/record/open.js';
import { startGitHubServer } from '../../test/helpers/github-server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WORK = path.join(ROOT, 'bench/.work/deploy-github');
const ROUNDS = 7;
const LATENCY_MS = 50;
const TOKEN = 'ghs_benchToken0123456789';
const SHA = 'b'.repeat(40);

// Two waves: db, then api/bot/web in parallel, then proxy. Critical path 300 + 600 + 300 ms.
const components = {
  db: { deploy: { run: 'sleep 0.3' } },
  api: { dependsOn: ['db'], deploy: { run: 'sleep 0.6' } },
  bot: { dependsOn: ['db'], deploy: { run: 'sleep 0.4' } },
  web: { dependsOn: ['db'], deploy: { run: 'sleep 0.5' } },
  proxy: { dependsOn: ['api', 'web'], deploy: { run: 'sleep 0.3' } },
};
const criticalPath = 1200;

rmSync(WORK, { recursive: true, force: true });
mkdirSync(path.join(WORK, '.github'), { recursive: true });
writeFileSync(path.join(WORK, '.github/slipway.yml'), stringify({ components, environments: {} }));

const gh = await startGitHubServer({ token: TOKEN, latencyMs: LATENCY_MS });

async function once(record: 'ledger' | 'github', round: number): Promise<number> {
  // One environment per record, a newer version each round: the history grows as it does in use.
  const environment = `bench-${record}`;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ environment, version: `1.0.${round}`, parallel: '4', token: TOKEN }))
    env[inputVariable(k)] = v;
  const rt = createMemoryRuntime({
    cwd: WORK,
    env: { ...process.env, GITHUB_SHA: SHA, GITHUB_API_URL: gh.url, GITHUB_REPOSITORY: 'acme/shop' },
  });
  const inputs = parseInputs(deployInputs, env);
  const started = performance.now();
  // The record is opened inside the timing: the GitHub client's set-up is part of the cost.
  const result = await runDeploy({
    inputs,
    record: record === 'ledger' ? new FileLedger(WORK) : chooseRecord(inputs, rt),
    runtime: rt,
  });
  const elapsed = performance.now() - started;
  if (result.status !== 'success') throw new Error(`${record} round ${round}: ${result.status}`);
  return elapsed;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const times = { ledger: [] as number[], github: [] as number[] };
const requests: number[] = [];
const load = loadavg()[0];
await once('github', 0); // warm-up: module loading, not the record's cost
for (let round = 1; round <= ROUNDS; round++) {
  // Interleaved, alternating which goes first.
  for (const record of round % 2 ? (['ledger', 'github'] as const) : (['github', 'ledger'] as const)) {
    const before = gh.requests.length;
    times[record].push(await once(record, round));
    if (record === 'github') requests.push(gh.requests.length - before);
  }
}
await gh.stop();
rmSync(WORK, { recursive: true, force: true });

const ms = (v: number) => `${Math.round(v)} ms`;
const ledger = median(times.ledger);
const github = median(times.github);
console.log(
  `5 components in 3 waves, parallel 4, ${criticalPath} ms critical path; GitHub test server at ${LATENCY_MS} ms per call; median of ${ROUNDS}; load ${load.toFixed(2)}`,
);
console.log('| record | wall time | × critical path | API calls |');
console.log('| --- | --- | --- | --- |');
console.log(`| critical path (the floor) | ${ms(criticalPath)} | 1.000 | — |`);
console.log(`| file ledger | ${ms(ledger)} | ${(ledger / criticalPath).toFixed(3)} | — |`);
console.log(`| GitHub Deployments | ${ms(github)} | ${(github / criticalPath).toFixed(3)} | ${median(requests)} |`);
console.log(`overhead of the GitHub record over the ledger: ${ms(github - ledger)} per run (target <= 1000 ms)`);
console.log(`rounds: ledger ${times.ledger.map(ms).join(', ')}; github ${times.github.map(ms).join(', ')}`);
