/** deploy with GitHub Deployments as the record, against the OpenAPI-checked GitHub server. */
import { stringify } from 'yaml';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { deploy as deployAction } from '../../src/deploy/deploy-action.js';
import { startGitHubServer, type GitHubServer } from '../helpers/github-server.js';
import { runBundledAction } from '../helpers/run-action.js';
import { createProduct, logged, loggedRollback, type Product } from './fixture.js';

const TOKEN = 'ghs_deployTestToken0123456789';
let gh: GitHubServer;
let p: Product;
beforeEach(async () => {
  p = await createProduct();
  gh = await startGitHubServer({ token: TOKEN });
  gh.state.repo().importGit(p.dir);
  p.writeConfig(
    stringify({
      components: {
        api: { deploy: { run: logged(), rollback: loggedRollback() }, health: [{ http: '/health/api' }] },
        web: { dependsOn: ['api'], deploy: { run: logged('sleep 0.1') }, health: [{ http: '/health/web' }] },
      },
      environments: { staging: { url: p.url } },
    }),
  );
});
afterEach(async () => {
  expect(gh.violations).toEqual([]);
  await gh.stop();
  await p.close();
});

const env = () => ({
  ...process.env,
  DEPLOY_LOG: `${p.dir}/deploy.log`,
  GITHUB_API_URL: gh.url,
  GITHUB_REPOSITORY: 'acme/shop',
  GITHUB_SHA: p.repo.head(),
  GITHUB_REF_NAME: 'main',
  GITHUB_ACTOR: 'octocat',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_RUN_ID: '77',
  SLIPWAY_RETRY_BASE_MS: '1',
});

async function deploy(values: Record<string, string>) {
  const rt = createMemoryRuntime({ cwd: p.dir, env: env() });
  let error: Error | undefined;
  try {
    await deployAction.run(p.inputs({ environment: 'staging', timeout: '2', token: TOKEN, ...values }), rt);
  } catch (err) {
    error = err as Error;
  }
  return { rt, error };
}

const deployments = () => gh.state.repo().deployments;
const states = (i: number) => deployments()[i].statuses.map((s) => s.state);

test('records each run as a deployment, reads the last good versions back, and rolls back to them', async () => {
  const first = await deploy({ version: '1.0.0' });
  expect(first.error).toBeUndefined();
  expect(first.rt.outputs['deployment-id']).toBe(String(deployments()[0].id));
  const create = gh.requests.find((r) => r.operationId === 'repos/create-deployment')!;
  expect(create.body).toMatchObject({
    environment: 'staging',
    ref: p.repo.head(),
    task: 'deploy',
    auto_merge: false,
    required_contexts: [],
    payload: { versions: { api: '1.0.0', web: '1.0.0' }, creator: 'octocat' },
  });
  expect(states(0)).toEqual(['queued', 'in_progress', 'success']);
  expect(deployments()[0].statuses[2]).toMatchObject({
    environment_url: p.url,
    log_url: 'https://github.com/acme/shop/actions/runs/77',
  });

  p.bad.set('web', new Set(['1.1.0']));
  p.clearLog();
  const second = await deploy({ version: '1.1.0' });
  expect(second.rt.outputs.status).toBe('rolled-back');
  expect(
    p
      .log()
      .filter((l) => l.version === '1.0.0')
      .map((l) => `${l.event} ${l.component}`),
  ).toEqual(['start web', 'end web', 'rollback api']);
  expect(states(1)).toEqual(['queued', 'in_progress', 'failure']);
  // The first deployment is still the good one.
  expect(states(0).at(-1)).toBe('success');

  // A manual rollback has nothing before 1.0.0; to-version goes anywhere recorded.
  p.bad.clear();
  expect((await deploy({ version: '1.2.0' })).error).toBeUndefined();
  expect(states(0).at(-1)).toBe('inactive');
  p.clearLog();
  const back = await deploy({ rollback: 'true' });
  expect(back.error).toBeUndefined();
  expect(JSON.parse(back.rt.outputs.deployed)).toEqual({ api: '1.0.0', web: '1.0.0' });
  expect(deployments()[3]).toMatchObject({ task: 'deploy:rollback', payload: { versions: { api: '1.0.0' } } });
  expect(back.rt.text()).not.toContain(TOKEN);
});

test('the lock: a stale in-progress deployment is marked error; a fresh one makes the run wait, then time out', async () => {
  const repo = gh.state.repo();
  // Long before anything the server's clock has stamped.
  const old = '2020-01-01T00:00:00Z';
  repo.deployments.push({
    id: repo.newId(),
    sha: p.repo.head(),
    ref: 'main',
    task: 'deploy',
    payload: { versions: { api: '0.9.0' }, creator: 'alice' },
    environment: 'staging',
    original_environment: 'staging',
    description: null,
    transient_environment: false,
    production_environment: false,
    created_at: old,
    updated_at: old,
    statuses: [
      {
        id: repo.newId(),
        state: 'in_progress',
        description: '',
        environment: 'staging',
        target_url: '',
        log_url: '',
        environment_url: '',
        created_at: old,
        updated_at: old,
      },
    ],
  });
  const r = await deploy({ version: '1.0.0', 'lock-timeout': '0' });
  expect(r.error).toBeUndefined();
  expect(r.rt.records.find((l) => l.level === 'warning')?.message).toMatch(/#1 by alice .* more than lock-ttl/);
  expect(states(0).at(-1)).toBe('error');
  expect(deployments()[0].statuses.at(-1)!.description).toMatch(/^stale: .*taken over by octocat/);

  // The deployment that just succeeded goes back in progress (seconds ago on the server's clock): it holds the environment.
  const holder = deployments()[1];
  holder.statuses.push({ ...holder.statuses.at(-1)!, id: repo.newId(), state: 'in_progress' });
  const blocked = await deploy({ version: '1.1.0', 'lock-timeout': '0' });
  expect(blocked.error?.message).toMatch(
    /^lock-timeout: deployment #\d+ by octocat .* to staging is still in progress/,
  );
  expect(deployments().at(-1)!.statuses.at(-1)!.state).toBe('error');
});

test('two runs at once: the later deployment waits for the earlier one', async () => {
  const [a, b] = await Promise.all([deploy({ version: '2.0.0' }), deploy({ version: '3.0.0' })]);
  expect(a.error).toBeUndefined();
  expect(b.error).toBeUndefined();
  const versions = p.log().map((l) => l.version);
  const firstOther = versions.findIndex((v) => v !== versions[0]);
  expect(firstOther).toBeGreaterThan(0);
  expect(versions.slice(firstOther).every((v) => v !== versions[0])).toBe(true);
  expect(a.rt.text() + b.rt.text()).toMatch(/Waiting for deployment #\d+ by octocat/);
});

test('the bundled action records in GitHub Deployments with the token', async () => {
  const run = await runBundledAction('deploy', {
    cwd: p.dir,
    env: { ...env(), INPUT_TOKEN: TOKEN } as Record<string, string>,
    inputs: { environment: 'staging', version: '1.0.0' },
  });
  expect(run.code).toBe(0);
  expect(run.outputs.status).toBe('success');
  expect(states(0)).toEqual(['queued', 'in_progress', 'success']);
  expect(run.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::') && l.includes(TOKEN))).toEqual([]);
});
