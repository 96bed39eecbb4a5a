/** The file ledger: one writer at a time across processes, and the environment lock. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { FileLedger } from '../../src/deploy/record/file-ledger.js';
import { lastGoodVersions, type DeploymentEntry } from '../../src/deploy/record/record.js';
import { ROOT } from '../helpers/run-action.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'slipway-ledger-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const request = (environment: string, version: string) => ({
  environment,
  task: 'deploy' as const,
  ref: 'main',
  sha: 'abc',
  versions: { api: version },
  creator: 'test',
  description: `deploy ${version}`,
});

test('processes writing at once never lose an entry', async () => {
  // Four processes each record five deployments to their own environment, all at once.
  const script = `
    import { FileLedger } from ${JSON.stringify(path.join(ROOT, 'src/deploy/record/file-ledger.ts'))};
    const ledger = new FileLedger(process.argv[2]);
    const log = { info() {}, warning() {}, debug() {}, error() {}, notice() {}, group: (_, fn) => fn() };
    for (let i = 0; i < 5; i++) {
      const e = await ledger.begin({ environment: process.argv[3], task: 'deploy', ref: 'main', sha: 'abc', versions: { api: '1.0.' + i }, creator: process.argv[3], description: '' }, { timeoutMs: 10000, ttlMs: 60000, log, pollMs: 5 });
      await ledger.finish(e.id, { state: 'success', description: 'ok' });
    }`;
  const file = path.join(dir, 'writer.mts');
  writeFileSync(file, script);
  const run = (env: string) =>
    new Promise<number>((resolve, reject) => {
      const child = spawn(path.join(ROOT, 'node_modules/.bin/tsx'), [file, dir, env], { stdio: 'inherit' });
      child.on('error', reject);
      child.on('close', (code) => resolve(code ?? -1));
    });
  expect(await Promise.all(['e1', 'e2', 'e3', 'e4'].map(run))).toEqual([0, 0, 0, 0]);
  const ledger = new FileLedger(dir);
  const all = (await Promise.all(['e1', 'e2', 'e3', 'e4'].map((e) => ledger.history(e)))).flat();
  expect(all).toHaveLength(20);
  expect(new Set(all.map((e) => e.id)).size).toBe(20);
  expect(all.every((e) => e.state === 'success')).toBe(true);
});

test('environments lock separately; one environment waits', async () => {
  const ledger = new FileLedger(dir);
  const log = createMemoryRuntime().log;
  const lock = { timeoutMs: 0, ttlMs: 60_000, log };
  const a = await ledger.begin(request('staging', '1.0.0'), lock);
  await ledger.begin(request('production', '1.0.0'), lock);
  await expect(ledger.begin(request('staging', '1.1.0'), lock)).rejects.toThrow(/lock-timeout: deployment #1 by test/);
  const waiting = ledger.begin(request('staging', '1.1.0'), { ...lock, timeoutMs: 10_000, pollMs: 10 });
  await ledger.finish(a.id, { state: 'success', description: 'ok' });
  expect((await waiting).state).toBe('in_progress');
});

test('last good versions skip failures and count superseded (inactive) successes', () => {
  const e = (id: string, state: DeploymentEntry['state'], versions: Record<string, string>): DeploymentEntry => ({
    id,
    environment: 'staging',
    task: 'deploy',
    ref: 'main',
    sha: 'abc',
    versions,
    state,
    creator: 't',
    createdAt: '',
    updatedAt: '',
  });
  const history = [
    e('5', 'failure', { api: '1.3.0', web: '1.3.0' }),
    e('4', 'success', { api: '1.2.0' }),
    e('3', 'inactive', { api: '1.1.0', web: '1.1.0' }),
    e('2', 'error', { web: '1.0.5' }),
    e('1', 'inactive', { api: '1.0.0', web: '1.0.0' }),
  ];
  expect(lastGoodVersions(history)).toEqual({ api: '1.2.0', web: '1.1.0' });
});
