/** Releasing a stuck lock by hand: `slipway unlock` (ledger and GitHub) and deploy's force-unlock input. */
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { FileLedger } from '../../src/deploy/record/file-ledger.js';
import { GitHubRecord } from '../../src/deploy/record/github.js';
import { githubDeploymentsApi } from '../../src/deploy/record/github-api.js';
import { createGitHubClient, repoClient } from '../../src/github/client.js';
import { createRepo } from '../helpers/git-repo.js';
import { startGitHubServer, type GitHubServer } from '../helpers/github-server.js';
import { ROOT } from '../helpers/run-action.js';

const TOKEN = 'ghs_unlockTestToken0123456789';
const app = createRepo();
app.commit('feat: app', {
  '.github/slipway.yml':
    'components:\n  api: { deploy: { run: "echo deploying $SLIPWAY_VERSION" } }\nenvironments:\n  production: {}\n',
});
let gh: GitHubServer;
beforeAll(async () => {
  gh = await startGitHubServer({ token: TOKEN });
  gh.state.repo().importGit(app.dir);
});
afterEach(() => expect(gh.violations).toEqual([]));
afterAll(async () => {
  await gh.stop();
  app.cleanup();
});

/** The CLI as a process; asynchronous, so the GitHub server in this process can answer it. */
function slipway(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/slipway.js'), ...args], {
      cwd: app.dir,
      env: { ...process.env, CI: 'true', GITHUB_TOKEN: '', GITHUB_ACTOR: 'bob', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const lock = { timeoutMs: 0, ttlMs: 3_600_000, log: createMemoryRuntime().log };
const request = (creator: string) => ({
  environment: 'production',
  task: 'deploy' as const,
  ref: 'main',
  sha: app.head(),
  versions: { api: '1.0.0' },
  creator,
  description: 'deploy api@1.0.0',
});

it('slipway unlock releases the ledger lock a dead run left, naming its holder; deploy then starts at once', async () => {
  // A run that died in the middle: its entry stays in_progress (fresh, so not stale).
  await new FileLedger(app.dir).begin(request('alice'), lock);
  const blocked = await slipway(['deploy', '--environment', 'production', '--version', '1.1.0', '--lock-timeout', '0']);
  expect(blocked.code).toBe(1);
  expect(blocked.stderr).toMatch(/lock-timeout: deployment #1 by alice/);
  // The way out is in the message.
  expect(blocked.stderr).toContain(
    '(if that run is gone, release the environment: force-unlock: true, or slipway unlock --environment production)',
  );

  const r = await slipway(['unlock', '--environment', 'production']);
  expect(r.code).toBe(0);
  expect(r.stderr + r.stdout).toMatch(
    /Released the lock of production: #1 by alice \(deploy, since .*\) marked error\./,
  );
  const entry = (await new FileLedger(app.dir).history('production')).find((e) => e.id === '1')!;
  expect(entry).toMatchObject({ state: 'error', description: 'lock released by hand by bob (was in_progress)' });
  expect((await slipway(['unlock', '--environment', 'production'])).stderr).toMatch(/production is not locked/);
  expect(
    (await slipway(['deploy', '--environment', 'production', '--version', '1.1.0', '--lock-timeout', '0'])).code,
  ).toBe(0);
  expect((await slipway(['unlock'])).stderr).toMatch(/--environment is required/);
});

it('slipway unlock refuses an environment the policy file does not define, releasing nothing', async () => {
  await new FileLedger(app.dir).begin({ ...request('carol'), environment: 'prod' }, lock);
  const r = await slipway(['unlock', '--environment', 'prod']);
  expect(r.code).toBe(1);
  expect(r.stderr.trim()).toBe(
    'error: --environment: unknown environment "prod" in .github/slipway.yml (expected one of: production)',
  );
  const held = (await new FileLedger(app.dir).history('prod')).map((e) => e.state);
  expect(held).toEqual(['in_progress']);
});

it('slipway unlock --token releases a GitHub Deployments lock', async () => {
  const rt = createMemoryRuntime({ env: { GITHUB_API_URL: gh.url, GITHUB_REPOSITORY: 'acme/shop' } });
  const record = new GitHubRecord(
    githubDeploymentsApi(repoClient(createGitHubClient({ token: TOKEN, runtime: rt, retryBaseMs: 1 }), rt.env)),
    // The run died before it marked itself in progress: its deployment stays pending (queued).
    { startDelayMs: 3_600_000 },
  );
  const held = await record.begin(request('carol'), lock);
  const env = { GITHUB_API_URL: gh.url, GITHUB_REPOSITORY: 'acme/shop', SLIPWAY_RETRY_BASE_MS: '1' };
  const r = await slipway(['unlock', '--environment', 'production', '--token', TOKEN], env);
  expect(r.code).toBe(0);
  expect(r.stderr + r.stdout).toMatch(new RegExp(`Released the lock of production: #${held.id} by carol`));
  expect(r.stderr + r.stdout).not.toContain(TOKEN);
  const d = gh.state.repo().deployments.find((x) => String(x.id) === held.id)!;
  expect(d.statuses.at(-1)).toMatchObject({
    state: 'error',
    description: 'lock released by hand by bob (was queued)',
  });
});
