/**
 * Every server a test helper starts (PostgreSQL, sshd, nginx, dockerd) is registered here by
 * PID, in a folder shared by all jest workers, and unregistered when the test stops it. What
 * is left when a worker exits (a test that failed or timed out before its afterAll) is killed
 * then, and whatever a crashed worker left is killed by the global teardown
 * (test/global-teardown.mjs): no test server outlives `npm test`.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Where the registrations live: one file per server, named by its PID. */
const REGISTRY = path.join(tmpdir(), `slipway-test-servers-${process.env.SLIPWAY_TEST_RUN ?? 'default'}`);

const mine = new Set<number>();

/** Kill a registered server (its process group too, where it leads one) and forget it. */
export function killServer(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
    } catch {
      /* not a group leader, or gone */
    }
  }
  rmSync(path.join(REGISTRY, String(pid)), { force: true });
}

/** Register a server this worker started. */
export function trackServer(pid: number, what: string): void {
  mkdirSync(REGISTRY, { recursive: true });
  writeFileSync(path.join(REGISTRY, String(pid)), `${what}\n`);
  mine.add(pid);
}

/** The server was stopped as planned. */
export function untrackServer(pid: number): void {
  mine.delete(pid);
  rmSync(path.join(REGISTRY, String(pid)), { force: true });
}

// A worker that exits with servers still registered (a timed-out test skipped its afterAll).
process.on('exit', () => {
  for (const pid of mine) killServer(pid);
});
