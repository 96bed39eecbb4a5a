/**
 * A cancelled job: the runner sends SIGINT to the action. The bundled deploy stops the
 * user's command (its whole process group), marks its GitHub deployment error (cancelled),
 * announces it, and exits non-zero, so the next deploy starts at once.
 */
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { stringify } from 'yaml';
import { startGitHubServer, type GitHubServer } from '../helpers/github-server.js';
import { errorLines, ROOT, runBundledAction } from '../helpers/run-action.js';
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
  // The outputs say how it ended and what it left, as a failed run's do.
  expect(done.outputs).toMatchObject({
    status: 'cancelled',
    deployed: JSON.stringify({ api: '1.0.0' }),
    'deployment-id': String(gh.state.repo().deployments[0].id),
  });
  expect(JSON.parse(done.outputs.plan).waves[0][0]).toMatchObject({ component: 'api', next: '1.0.0' });
  expect(done.summary).toMatch(/^## Deploy to staging: cancelled$/m);
  const d = gh.state.repo().deployments[0];
  expect(d.statuses.at(-1)).toMatchObject({
    state: 'error',
    description: 'cancelled (SIGINT) while deploying api@1.0.0',
  });
  expect(hooks).toEqual([expect.objectContaining({ event: 'deploy-failed', status: 'cancelled' })]);
  expect(JSON.stringify(hooks)).toMatch(/cancelled \(SIGINT\): api stopped in the middle/);

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

/** `slipway …` as a process in the product's folder (the ledger record, as in a terminal). */
function slipway(args: string[], onStart?: (c: ChildProcess) => void) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/slipway.js'), ...args], {
      cwd: p.dir,
      env: { ...process.env, CI: 'true', GITHUB_TOKEN: '', DEPLOY_LOG: path.join(p.dir, 'deploy.log') },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    onStart?.(child);
  });
}

async function untilExists(file: string): Promise<void> {
  while (!existsSync(file)) await new Promise((r) => setTimeout(r, 20));
}

/** Every error line, the ones inside a group (indented) too. */
const errorsOf = (stderr: string) =>
  stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('error:'));

test('Ctrl-C during slipway deploy: the outputs say cancelled, one error line, and status says what is known', async () => {
  const started = path.join(p.dir, 'api-started');
  const config = (api: string) =>
    stringify({
      components: {
        db: { deploy: { run: logged() } },
        api: { dependsOn: ['db'], deploy: { run: api } },
        web: { dependsOn: ['api'], deploy: { run: logged() } },
      },
      environments: { staging: {} },
    });
  p.writeConfig(config(logged()));
  expect((await slipway(['deploy', '--environment', 'staging', '--version', '1.0.0'])).code).toBe(0);
  p.writeConfig(config(`touch "${started}"; sleep 30 & wait`));
  let child: ChildProcess | undefined;
  const run = slipway(['deploy', '--environment', 'staging', '--version', '1.1.0', '--json'], (c) => (child = c));
  await untilExists(started);
  child!.kill('SIGINT');
  const done = await run;
  expect(done.code).toBe(130);
  expect(errorsOf(done.stderr)).toEqual(['error: deploy cancelled']);
  // Printed before it exited: db finished, api was stopped in the middle (left at what it was moving to).
  expect(JSON.parse(done.stdout)).toMatchObject({
    status: 'cancelled',
    deployed: { db: '1.1.0', api: '1.1.0' },
    'previous-version': '1.0.0',
    'deployment-id': '2',
  });
  expect(done.stderr).toMatch(
    /deploy to staging cancelled \(SIGINT\): api stopped in the middle, left as it is \(not rolled back\); db done; web not started/,
  );

  const status = await slipway(['status', '--environment', 'staging', '--json']);
  expect(status.code).toBe(0);
  const rows = JSON.parse(status.stdout).components as Record<string, unknown>[];
  expect(rows.map((r) => [r.component, r.version, r.note])).toEqual([
    ['db', '1.1.0', 'deployed by #2, which was cancelled (SIGINT) afterwards'],
    ['api', null, 'cancelled (SIGINT) while deploying 1.1.0 (deployment #2); ran 1.0.0 before'],
    ['web', '1.0.0', undefined],
  ]);
  const table = await slipway(['status', '--environment', 'staging']);
  expect(table.stdout).toMatch(
    /^\| api \| unknown \| [^|]+ \| \w{7} \| [^|]+ \| deploy \| cancelled \(SIGINT\) while deploying 1\.1\.0/m,
  );
});

test('Ctrl-C while deploy rolls back: the stopped rollback is not a second error', async () => {
  const started = path.join(p.dir, 'rollback-started');
  const config = (run: string) =>
    stringify({
      components: { api: { deploy: { run, rollback: `touch "${started}"; sleep 30 & wait` } } },
      environments: { staging: {} },
    });
  p.writeConfig(config(logged()));
  expect((await slipway(['deploy', '--environment', 'staging', '--version', '1.0.0'])).code).toBe(0);
  p.writeConfig(config('echo broken; exit 3'));
  let child: ChildProcess | undefined;
  const run = slipway(['deploy', '--environment', 'staging', '--version', '1.1.0'], (c) => (child = c));
  await untilExists(started);
  child!.kill('SIGINT');
  const done = await run;
  expect(done.code).toBe(130);
  // The failure that started the rollback was an error before the cancel; after it, only the cancel's own line.
  const [before, after] = done.stderr.split(/^warning: SIGINT: cancelling the run.*$/m);
  expect(errorsOf(before)).toEqual([expect.stringMatching(/^error: api: run command exited with 3/)]);
  expect(errorsOf(after)).toEqual(['error: deploy cancelled']);
  expect(after).toMatch(/Rollback of api stopped \(SIGINT\)/);
  expect(done.stdout).toMatch(/^status: cancelled$/m);
});
