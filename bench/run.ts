/**
 * `npm run bench [-- name …]`: every benchmark in bench/, one after another (names:
 * version-bump, build-selective, migrate, deploy, deploy-github, deploy-switch, smoke-test).
 * Each prints its own table of times, its peer and floor, and the ratios; the bundled actions
 * they time are dist/ as committed (run `npm run bundle` first after a change).
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BENCHES: Record<string, string> = {
  'version-bump': 'bench/version-bump/run.ts',
  'build-selective': 'bench/build-selective/run.ts',
  migrate: 'bench/migrate/run.ts',
  deploy: 'bench/deploy/run.ts',
  'deploy-github': 'bench/deploy/github-record.ts',
  'deploy-switch': 'bench/deploy/switch.ts',
  'smoke-test': 'bench/smoke-test/run.ts',
};

const asked = process.argv.slice(2);
const unknown = asked.filter((n) => !(n in BENCHES));
if (unknown.length) {
  console.error(`bench: unknown ${unknown.join(', ')} (expected some of: ${Object.keys(BENCHES).join(', ')})`);
  process.exit(1);
}
let failed = 0;
for (const name of asked.length ? asked : Object.keys(BENCHES)) {
  console.log(`\n## ${name} (load average ${loadavg()[0].toFixed(2)})\n`);
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), BENCHES[name]], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    console.error(`bench ${name} failed (exit ${r.status ?? r.signal})`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
