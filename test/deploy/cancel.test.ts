/**
 * A cancelled job: the runner sends SIGINT to the action. The bundled deploy stops the
 * user's command (its whole process group), marks its GitHub deployment error (cancelled),
 * announces it, and exits non-zero, so the next deploy starts at once.
 */
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { stringify } from 'yaml';
import { startGitHubServer, type GitHubServer } from '../helpers/github-server.js';
import { errorLines, runBundledAction } from '../helpers/run-action.js';
import { createProduct, logged, type Product } from './fixture.js';

const TOKEN = 'ghs_cancelTestToken0123456789';
let gh: GitHubServer;
let p: Product;
let hook: http.Server;
let hooks: unknown[];
beforeEach(async () => {
  p = await createProduct();
  gh = await startGitHubServer({ token: TOKEN });
  gh.state.repo().importGit(p.dir);
  hooks = [];
  hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      hooks.push(JSON.parse(body));
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
});
afterEach(async () => {
  expect(gh.violations).toEqual([]);
  await gh.stop();
  hook.closeAllConnections();
  await new Promise<void>((r) => hook.close(() => r()));
  await p.close();
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('SIGINT in the middle of a 30-second command: the command is gone, the record says cancelled, the next deploy starts at once', async () => {
  const pidFile = path.join(p.dir, 'sleeper.pid');
  const hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`;
  p.writeConfig(
    stringify({
      // The command's child in the background and the shell waiting on it: a whole process group.
      components: { api: { deploy: { run: `sleep 30 & echo $! > "${pidFile}"; wait` } } },
      environments: { staging: { url: p.url } },
      notify: [{ kind: 'webhook', webhook: { env: 'HOOK_URL' }, events: ['deploy-failed'] }],
    }),
  );
  const env = {
    GITHUB_API_URL: gh.url,
    GITHUB_SHA: p.repo.head(),
    GITHUB_REF_NAME: 'main',
    GITHUB_ACTOR: 'octocat',
    SLIPWAY_RETRY_BASE_MS: '1',
    HOOK_URL: hookUrl,
  };
  let child: ChildProcess | undefined;
  let sleeper = 0;
  let goneWithin = -1;
  const run = runBundledAction('deploy', {
    cwd: p.dir,
    env,
    inputs: { environment: 'staging', version: '1.0.0', token: TOKEN },
    onStart: (c) => (child = c),
    timeoutMs: 40_000,
  });
  while (!existsSync(pidFile) || !readFileSync(pidFile, 'utf8').trim()) await new Promise((r) => setTimeout(r, 20));
  sleeper = Number(readFileSync(pidFile, 'utf8').trim());
  expect(alive(sleeper)).toBe(true);
  child!.kill('SIGINT');
  // Polled in steps of 50 ms, up to 2 s: how long the command outlived the signal.
  for (let i = 0; i < 40; i++) {
    if (!alive(sleeper)) {
      goneWithin = i;
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const done = await run;
  expect(goneWithin).toBeGreaterThanOrEqual(0);
  expect(done.code).not.toBe(0);
  expect(errorLines(done)).toEqual([
    '::error::deploy cancelled: its commands were stopped and what it held was released.',
  ]);
  expect(done.outputs.status).toBe('failed');
  const d = gh.state.repo().deployments[0];
  expect(d.statuses.at(-1)).toMatchObject({
    state: 'error',
    description: expect.stringMatching(/^cancelled \(SIGINT\)/),
  });
  expect(hooks).toEqual([expect.objectContaining({ event: 'deploy-failed' })]);
  expect(JSON.stringify(hooks)).toMatch(/cancelled \(SIGINT\)/);

  // The environment is free: the next deploy does not wait for the cancelled one.
  p.writeConfig(
    stringify({ components: { api: { deploy: { run: logged() } } }, environments: { staging: { url: p.url } } }),
  );
  const next = await runBundledAction('deploy', {
    cwd: p.dir,
    env: { ...env, DEPLOY_LOG: path.join(p.dir, 'deploy.log') },
    inputs: { environment: 'staging', version: '1.0.1', token: TOKEN, 'lock-timeout': '0' },
  });
  expect(errorLines(next)).toEqual([]);
  expect(next.outputs.status).toBe('success');
  expect(next.stdout).not.toMatch(/Waiting for deployment/);
});
