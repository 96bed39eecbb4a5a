// After the whole suite: kill any test server a failed or crashed test left running. Plain
// JavaScript, because jest loads a global teardown without the TypeScript transform; the
// folder is the one test/helpers/processes.ts registers servers in.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const REGISTRY = path.join(tmpdir(), `slipway-test-servers-${process.env.SLIPWAY_TEST_RUN ?? 'default'}`);

export default function globalTeardown() {
  let names = [];
  try {
    names = readdirSync(REGISTRY);
  } catch {
    return;
  }
  const left = [];
  for (const name of names) {
    const pid = Number(name);
    left.push(`${readFileSync(path.join(REGISTRY, name), 'utf8').trim()} (pid ${pid})`);
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        /* not a group leader, or gone */
      }
    }
    rmSync(path.join(REGISTRY, name), { force: true });
  }
  if (left.length)
    console.warn(`test teardown: stopped ${left.length} server(s) a test left running: ${left.join(', ')}`);
}
