/**
 * bench/deploy: 30 components in 6 waves whose deploy commands sleep (uneven durations),
 * deployed by runDeploy through the file ledger. Compared with the critical path (the
 * longest chain of sleeps, the best any scheduler can do) and with the ideal of a
 * wave-by-wave executor (the sum of each wave's slowest component).
 * Run: npx tsx bench/deploy/run.ts
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { inputVariable, parseInputs } from '../../src/core/inputs.js';
import { runDeploy } from '../../src/deploy/deploy.js';
import { deployInputs } from '../../src/deploy/inputs.js';
import { FileLedger } from '../../src/deploy/record/file-ledger.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WORK = path.join(ROOT, 'bench/.work/deploy');
const WAVES = 6;
const WIDTH = 5;
const ROUNDS = 3;

// Deterministic uneven durations between 200 and 700 ms.
let seed = 42;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const name = (w: number, i: number) => `c${w}-${i}`;
const sleepMs: Record<string, number> = {};
const deps: Record<string, string[]> = {};
for (let w = 0; w < WAVES; w++)
  for (let i = 0; i < WIDTH; i++) {
    sleepMs[name(w, i)] = 200 + Math.round(random() * 10) * 50;
    deps[name(w, i)] = w === 0 ? [] : [name(w - 1, i), name(w - 1, (i + 1) % WIDTH)];
  }

const finish: Record<string, number> = {};
for (const n of Object.keys(deps)) finish[n] = sleepMs[n] + Math.max(0, ...deps[n].map((d) => finish[d]));
const criticalPath = Math.max(...Object.values(finish));
let waveIdeal = 0;
for (let w = 0; w < WAVES; w++) waveIdeal += Math.max(...Array.from({ length: WIDTH }, (_, i) => sleepMs[name(w, i)]));

rmSync(WORK, { recursive: true, force: true });
mkdirSync(path.join(WORK, '.github'), { recursive: true });
writeFileSync(
  path.join(WORK, '.github/slipway.yml'),
  stringify({
    components: Object.fromEntries(
      Object.keys(deps).map((n) => [
        n,
        { dependsOn: deps[n], deploy: { run: `sleep ${(sleepMs[n] / 1000).toFixed(3)}` } },
      ]),
    ),
    environments: { bench: {} },
  }),
);

const times: number[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ environment: 'bench', version: `1.0.${round}`, parallel: '8' }))
    env[inputVariable(k)] = v;
  const rt = createMemoryRuntime({ cwd: WORK, env: { ...process.env, GITHUB_SHA: 'bench' } });
  const started = performance.now();
  const result = await runDeploy({ inputs: parseInputs(deployInputs, env), record: new FileLedger(WORK), runtime: rt });
  times.push(performance.now() - started);
  if (result.status !== 'success') throw new Error(`round ${round}: ${result.status}`);
}
const ours = times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
const ms = (v: number) => `${Math.round(v)} ms`;
console.log(`30 components, ${WAVES} waves of ${WIDTH}, parallel 8, commands sleep 200-700 ms`);
console.log(`critical path:            ${ms(criticalPath)}`);
console.log(`wave-by-wave ideal:       ${ms(waveIdeal)} (${(waveIdeal / criticalPath).toFixed(3)}x the critical path)`);
console.log(`slipway deploy (median of ${ROUNDS}): ${ms(ours)} (rounds: ${times.map(ms).join(', ')})`);
console.log(`ratio to the critical path: ${(ours / criticalPath).toFixed(3)}x (target <= 1.15x)`);
