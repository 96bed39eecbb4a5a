/** deploy with GitHub Deployments as the record, against the OpenAPI-checked GitHub server. */
import { stringify } from 'yaml';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { deploy as deployAction } from '../../src/deploy/deploy-action.js';
import { startGitHubServer, type GitHubServer } from '../helpers/github-server.js';
import { sleep } from '../../src/core/retry.js';
import { GitHubRecord, type DeploymentsApi } from '../../src/deploy/record/github.js';
import { githubDeploymentsApi } from '../../src/deploy/record/github-api.js';
import { startHeartbeat } from '../../src/deploy/record/heartbeat.js';
import { runDeploy } from '../../src/deploy/deploy.js';
import { chooseRecord } from '../../src/deploy/record/open.js';
import { TARGETS } from '../../src/deploy/targets/index.js';
import { TargetError, type TargetFactory } from '../../src/deploy/targets/target.js';
import { createGitHubClient, repoClient } from '../../src/github/client.js';
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
/** The statuses but in_progress, which a run sends only once it has gone on for a while (GitHubRecord's startDelayMs). */
const outcome = (i: number) => states(i).filter((s) => s !== 'in_progress');

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
  expect(outcome(0)).toEqual(['success']);
  expect(deployments()[0].statuses.at(-1)).toMatchObject({
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
  expect(outcome(1)).toEqual(['failure']);
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
    payload: { slipway: 1, versions: { api: '0.9.0' }, creator: 'alice' },
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
  const [a, b] = await Promise.all([deploy({ version: '2.0.0' }), deploy({ version: '2.0.1' })]);
  const versions = p.log().map((l) => l.version);
  const firstOther = versions.findIndex((v) => v !== versions[0]);
  expect(a.rt.text() + b.rt.text()).toMatch(/Waiting for deployment #\d+ by octocat/);
  if (versions[0] === '2.0.0') {
    expect(a.error).toBeUndefined();
    expect(b.error).toBeUndefined();
    expect(firstOther).toBeGreaterThan(0);
    expect(versions.slice(firstOther).every((v) => v !== versions[0])).toBe(true);
  } else {
    // 2.0.1 got the lock first: 2.0.0, which waited, must not go over it.
    expect(versions.every((v) => v === '2.0.1')).toBe(true);
    expect(a.error?.message).toMatch(/^refusing to deploy to staging: api 2\.0\.0 is older than the 2\.0\.1 it runs/);
  }
});

test('an older version that waited for the lock is refused once it holds it, unless allow-downgrade', async () => {
  p.writeConfig(
    stringify({
      components: { api: { deploy: { run: logged('sleep 1'), rollback: loggedRollback() } } },
      environments: { staging: { url: p.url } },
    }),
  );
  const newer = deploy({ version: '3.1.0' });
  while (!p.log().some((l) => l.event === 'start')) await sleep(25);
  const older = await deploy({ version: '3.0.0' });
  expect((await newer).error).toBeUndefined();
  expect(older.rt.text()).toMatch(/Waiting for deployment #\d+ by octocat/);
  expect(older.error?.message).toBe(
    'refusing to deploy to staging: api 3.0.0 is older than the 3.1.0 it runs (to go back on purpose use rollback: true with to-version, or set allow-downgrade: true)',
  );
  expect(older.rt.outputs.status).toBe('failed');
  expect(p.log().map((l) => `${l.event} ${l.version}`)).toEqual(['start 3.1.0', 'end 3.1.0']);
  // Its own deployment says why, and does not hold the environment.
  expect(deployments()[1].statuses.at(-1)).toMatchObject({
    state: 'error',
    description: expect.stringMatching(/^refusing/),
  });

  // Refused before the lock as well; allowed on purpose.
  expect((await deploy({ version: '3.0.0' })).error?.message).toMatch(
    /^refusing to deploy to staging: api 3\.0\.0 is older/,
  );
  const forced = await deploy({ version: '3.0.0', 'allow-downgrade': 'true' });
  expect(forced.error).toBeUndefined();
  // Said once, though the rule is checked before the lock and again under it.
  expect(forced.rt.records.filter((l) => l.level === 'warning').map((l) => l.message)).toEqual([
    'allow-downgrade: api goes from 3.1.0 back to 3.0.0.',
  ]);
});

test('one version is one commit: a version the record holds for another commit is refused', async () => {
  p.writeConfig(
    stringify({
      components: {
        api: { paths: ['api/**'], deploy: { run: logged() } },
        web: { paths: ['web/**'], deploy: { run: logged() } },
      },
      environments: { staging: { url: p.url } },
    }),
  );
  const first = p.repo.commit('api and web', { 'api/a.txt': '1\n', 'web/w.txt': '1\n' });
  gh.state.repo().importGit(p.dir);
  const at = (sha: string, values: Record<string, string>) =>
    deployAction
      .run(
        p.inputs({ environment: 'staging', timeout: '2', token: TOKEN, ...values }),
        createMemoryRuntime({ cwd: p.dir, env: { ...env(), GITHUB_SHA: sha } }),
      )
      .then(
        () => undefined,
        (e: Error) => e,
      );
  expect(await at(first, { version: '0.1.1' })).toBeUndefined();
  // A second push computed the same version: only web changed.
  const second = p.repo.commit('web only', { 'web/w.txt': '2\n' });
  gh.state.repo().importGit(p.dir);
  const refused = await at(second, { version: '0.1.1' });
  expect(refused?.message).toBe(
    `refusing to deploy commit ${second.slice(0, 7)} to staging: web 0.1.1 is already commit ${first.slice(0, 7)} (deployment #1); one version is one commit, so this commit needs a version of its own`,
  );
  expect(deployments()).toHaveLength(1);
  // api's files are the same in both commits: its 0.1.1 is the same thing, web gets a version of its own.
  expect(await at(second, { version: JSON.stringify({ api: '0.1.1', web: '0.1.2' }) })).toBeUndefined();
  // The same commit may redeploy its version.
  expect(await at(second, { version: JSON.stringify({ web: '0.1.2' }) })).toBeUndefined();
});

test('the bundled action records in GitHub Deployments with the token', async () => {
  const run = await runBundledAction('deploy', {
    cwd: p.dir,
    env: { ...env(), INPUT_TOKEN: TOKEN } as Record<string, string>,
    inputs: { environment: 'staging', version: '1.0.0' },
  });
  expect(run.code).toBe(0);
  expect(run.outputs.status).toBe('success');
  expect(outcome(0)).toEqual(['success']);
  expect(run.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::') && l.includes(TOKEN))).toEqual([]);
});

describe('the record read back and written', () => {
  const withProduction = () =>
    p.writeConfig(
      stringify({
        components: {
          api: { deploy: { run: logged(), rollback: loggedRollback() }, health: [{ http: '/health/api' }] },
          web: { dependsOn: ['api'], deploy: { run: logged() } },
        },
        environments: { staging: { url: p.url }, production: { url: p.url, after: 'staging' } },
      }),
    );

  test('environments.production.after: staging is read from GitHub Deployments', async () => {
    withProduction();
    const refused = await deploy({ environment: 'production', version: '1.0.0' });
    expect(refused.error?.message).toBe(
      'refusing to deploy to production: api 1.0.0, web 1.0.0 have not been deployed successfully to staging, ' +
        'and environments.production.after in .github/slipway.yml requires it (deploy them to staging first)',
    );
    expect(refused.rt.outputs.status).toBe('failed');
    expect(deployments()).toEqual([]);
    expect(p.log()).toEqual([]);

    expect((await deploy({ version: '1.0.0' })).error).toBeUndefined();
    const ok = await deploy({ environment: 'production', version: '1.0.0' });
    expect(ok.error).toBeUndefined();
    expect(deployments().map((d) => [d.environment, d.statuses.at(-1)!.state])).toEqual([
      ['staging', 'success'],
      ['production', 'success'],
    ]);
    // A later success makes staging's deployment inactive on GitHub: it still counts as deployed there.
    expect((await deploy({ version: '1.1.0' })).error).toBeUndefined();
    expect(states(0).at(-1)).toBe('inactive');
    expect(
      (await deploy({ environment: 'production', version: '1.0.0', components: '["api"]' })).error,
    ).toBeUndefined();
  });

  test('heartbeat: a deployment longer than lock-ttl keeps its lock while a second run waits', async () => {
    p.writeConfig(
      stringify({
        components: { api: { deploy: { run: logged('sleep 5') } } },
        environments: { staging: { url: p.url } },
      }),
    );
    // The test server's clock steps 1 s per status it stamps, so lock-ttl leaves room for a few stamps.
    const a = deploy({ version: '1.0.0', 'lock-ttl': '4' });
    while (!p.log().some((l) => l.event === 'start')) await new Promise((r) => setTimeout(r, 25));
    const b = await deploy({ version: '2.0.0', 'lock-ttl': '4', 'lock-timeout': '60' });
    const first = await a;
    expect(first.error).toBeUndefined();
    expect(b.error).toBeUndefined();
    expect(b.rt.text()).not.toMatch(/more than lock-ttl/);
    expect(b.rt.text()).toMatch(/Waiting for deployment #\d+ by octocat/);
    expect(p.log().map((l) => `${l.event} ${l.version}`)).toEqual([
      'start 1.0.0',
      'end 1.0.0',
      'start 2.0.0',
      'end 2.0.0',
    ]);
    // The first deployment beat: several in_progress statuses, then its final state after the last beat.
    const beats = states(0).filter((s) => s === 'in_progress').length;
    expect(beats).toBeGreaterThanOrEqual(3);
    expect(states(0).at(-1)).not.toBe('in_progress');
    expect(states(0)).not.toContain('error');
  });

  test('error text is redacted before it is stored in a deployment status', async () => {
    const SECRET = 'sk_live_9f8e7d6c5b4a';
    p.writeConfig(
      stringify({
        components: { api: { deploy: { run: 'echo "cannot log in with $API_KEY" >&2; exit 4' } } },
        environments: { staging: { url: p.url } },
      }),
    );
    const rt = createMemoryRuntime({ cwd: p.dir, env: { ...env(), API_KEY: SECRET } });
    rt.mask(SECRET);
    const error = await deployAction.run(p.inputs({ environment: 'staging', version: '1.0.0', token: TOKEN }), rt).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/failed at api 1\.0\.0: run command exited with 4: cannot log in with \*\*\*/);
    expect(states(0).at(-1)).toBe('failure');
    expect(deployments()[0].statuses.at(-1)!.description).toMatch(/cannot log in with \*\*\*/);

    // A plugin target's error is not redacted by the target: deploy redacts it before the record.
    const leaky: TargetFactory = () => ({
      kind: 'leaky-test',
      async deploy(ctx) {
        throw new TargetError(`the API refused key ${ctx.runtime.env.API_KEY}`);
      },
      async rollback() {},
      describe: () => ({ run: 'leaky' }),
    });
    p.writeConfig(
      stringify({
        components: { api: { deploy: { target: 'leaky-test' } } },
        environments: { staging: { url: p.url } },
      }),
    );
    const inputs = p.inputs({ environment: 'staging', version: '1.0.1', token: TOKEN });
    const again = await runDeploy({
      inputs,
      record: chooseRecord(inputs, rt),
      runtime: rt,
      targets: { ...TARGETS, 'leaky-test': leaky },
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(again?.message).toMatch(/failed at api 1\.0\.1: the API refused key/);
    expect(deployments()[1].statuses.at(-1)).toMatchObject({
      state: 'failure',
      description: expect.stringContaining('refused key ***'),
    });
    expect(JSON.stringify(gh.requests.map((r) => r.body))).not.toContain(SECRET);
  });

  test('on a runner without a token, deploy warns that the ledger does not survive the job', async () => {
    const run = async (extra: Record<string, string>) => {
      const rt = createMemoryRuntime({ cwd: p.dir, env: { ...env(), ...extra } });
      await deployAction.run(p.inputs({ environment: 'staging', version: '1.0.0', token: '' }), rt);
      return rt;
    };
    const runner = await run({ GITHUB_ACTIONS: 'true' });
    expect(runner.records.find((l) => l.level === 'warning')?.message).toMatch(
      /^No token: deployments are recorded in \.slipway\/deployments\.json .* does not survive the job/,
    );
    const local = await run({ GITHUB_ACTIONS: '' });
    expect(local.records.filter((l) => l.level === 'warning')).toEqual([]);
    expect(local.records.find((l) => l.level === 'notice')?.message).toMatch(/^No token/);
    expect(gh.requests).toEqual([]);
  });
});

test('stopping the heartbeat waits for a beat in flight, so the final state is the last one recorded', async () => {
  const rt = createMemoryRuntime({ cwd: p.dir, env: env() });
  const api = githubDeploymentsApi(repoClient(createGitHubClient({ token: TOKEN, runtime: rt }), rt.env));
  let started = false;
  let slowBeats = 0;
  // The real API, with each heartbeat's status held back 300 ms, as a slow GitHub would.
  const slow: DeploymentsApi = {
    ...api,
    async setStatus(id, input) {
      if (started && input.state === 'in_progress') {
        slowBeats++;
        await sleep(300);
      }
      return api.setStatus(id, input);
    },
  };
  const record = new GitHubRecord(slow);
  const entry = await record.begin(
    {
      environment: 'staging',
      task: 'deploy',
      ref: 'main',
      sha: p.repo.head(),
      versions: { api: '1.0.0' },
      creator: 'octocat',
      description: 'deploy api@1.0.0',
    },
    { timeoutMs: 0, ttlMs: 60_000, log: rt.log },
  );
  started = true;
  const heartbeat = startHeartbeat(record, entry.id, { description: 'deploy api@1.0.0' }, { ttlMs: 150, log: rt.log });
  while (slowBeats === 0) await sleep(10);
  await heartbeat.stop();
  await record.finish(entry.id, { state: 'success', description: 'deployed' });
  await sleep(400);
  // The delayed in_progress was not sent yet: the beat's own took its place, and the final state came last.
  expect(states(0)).toEqual(['in_progress', 'success']);
});

describe("deployments that are not Slipway's", () => {
  test("a deploy inside a job that names its environment does not wait for the job's own deployment", async () => {
    const repo = gh.state.repo();
    // GitHub creates it before the first step and keeps it in_progress while the job runs.
    const job = repo.startJobDeployment('staging', { sha: p.repo.head(), ref: 'main' });
    const r = await deploy({ version: '1.0.0', 'lock-timeout': '5' });
    expect(r.error).toBeUndefined();
    expect(r.rt.text()).not.toMatch(/Waiting for deployment/);
    const ours = deployments().find((d) => d !== job.deployment)!;
    expect(ours.payload).toMatchObject({ slipway: 1, versions: { api: '1.0.0', web: '1.0.0' } });
    expect(ours.statuses.map((s) => s.state).filter((s) => s !== 'in_progress')).toEqual(['success']);
    // The job's deployment is GitHub's to finish: deploy posted nothing to it.
    expect(job.deployment.statuses.map((s) => s.state)).toEqual(['queued', 'in_progress']);
    job.finish('success');
    // The job's success made ours inactive: still the last good version, and the job's never one.
    expect(ours.statuses.at(-1)!.state).toBe('inactive');

    const next = repo.startJobDeployment('staging', { sha: p.repo.head(), ref: 'main', runId: 2 });
    const second = await deploy({ version: '1.1.0', 'lock-timeout': '5' });
    expect(second.error).toBeUndefined();
    expect(second.rt.outputs['previous-version']).toBe('1.0.0');
    next.finish('success');
  });

  test("other tools' deployments never hold the lock, supply versions or count for after:", async () => {
    p.writeConfig(
      stringify({
        components: { api: { deploy: { run: logged(), rollback: loggedRollback() } } },
        environments: { staging: { url: p.url }, production: { url: p.url, after: 'staging' } },
      }),
    );
    const repo = gh.state.repo();
    // Another tool's deployments, with payloads that look like ours but carry no marker.
    repo.addDeployment({
      environment: 'staging',
      payload: { versions: { api: '9.0.0' }, creator: 'mallory' },
      creator: 'other-bot',
      states: ['success'],
    });
    repo.addDeployment({ environment: 'staging', payload: 'not json at all', states: ['in_progress'] });
    repo.addDeployment({
      environment: 'staging',
      task: 'deploy:rollback',
      payload: { slipway: 'yes' },
      states: ['queued'],
    });
    repo.addDeployment({ environment: 'staging', payload: { versions: ['1.0.0'] }, states: ['in_progress'] });
    const r = await deploy({ version: '1.0.0', 'lock-timeout': '0' });
    expect(r.error).toBeUndefined();
    // 9.0.0 was never Slipway's: nothing was running before.
    expect(r.rt.outputs['previous-version']).toBe('');

    repo.addDeployment({
      environment: 'staging',
      payload: { versions: { api: '2.0.0' } },
      states: ['success'],
    });
    const refused = await deploy({ environment: 'production', version: '2.0.0' });
    expect(refused.error?.message).toMatch(/^refusing to deploy to production: api 2\.0\.0 has not been deployed/);
    // And a rollback has nothing before 1.0.0 to go back to: the foreign 9.0.0 is not a candidate.
    const back = await deploy({ rollback: 'true' });
    expect(back.error).toBeUndefined();
    expect(back.rt.text()).toMatch(/no good version before 1\.0\.0 is recorded/);
  });
});

test('force-unlock releases a lock that a dead run left held, naming it, and deploys at once', async () => {
  expect((await deploy({ version: '1.0.0' })).error).toBeUndefined();
  const repo = gh.state.repo();
  // The run that succeeded goes back in progress, fresh on the server's clock: a holder that is not stale.
  const holder = deployments()[0];
  repo.addStatus(holder, 'in_progress');
  const r = await deploy({ version: '1.1.0', 'lock-timeout': '0', 'force-unlock': 'true' });
  expect(r.error).toBeUndefined();
  expect(r.rt.records.find((l) => l.level === 'warning')?.message).toMatch(
    new RegExp(`^Released the lock of staging: #${holder.id} by octocat \\(deploy, since .*\\) marked error\\.$`),
  );
  expect(holder.statuses.at(-1)).toMatchObject({
    state: 'error',
    description: 'lock released by hand by octocat (was in_progress)',
  });
});

describe('the in_progress status, off the critical path', () => {
  const open = (startDelayMs: number) => {
    const rt = createMemoryRuntime({ cwd: p.dir, env: env() });
    const api = githubDeploymentsApi(repoClient(createGitHubClient({ token: TOKEN, runtime: rt }), rt.env));
    return { rt, record: new GitHubRecord(api, { startDelayMs }) };
  };
  const request = {
    environment: 'staging',
    task: 'deploy' as const,
    ref: 'main',
    sha: '',
    versions: { api: '1.0.0' },
    creator: 'octocat',
    description: 'deploy api@1.0.0',
  };

  test('a run that ends before the start delay writes only its creation and its final state', async () => {
    const { rt, record } = open(60_000);
    const entry = await record.begin({ ...request, sha: p.repo.head() }, { timeoutMs: 0, ttlMs: 60_000, log: rt.log });
    expect(gh.count('repos/create-deployment-status')).toBe(0);
    // Pending (no status yet) holds the lock as queued does: a second run waits for it.
    const other = open(60_000);
    await expect(
      other.record.begin(
        { ...request, sha: p.repo.head(), creator: 'hubot' },
        { timeoutMs: 0, ttlMs: 60_000, log: other.rt.log },
      ),
    ).rejects.toThrow(/^lock-timeout: deployment #\d+ by octocat/);
    await record.finish(entry.id, { state: 'success', description: 'deployed' });
    expect(states(0)).toEqual(['success']);
  });

  test('a longer run is marked in_progress, then its final state, in that order', async () => {
    const { rt, record } = open(0);
    const entry = await record.begin({ ...request, sha: p.repo.head() }, { timeoutMs: 0, ttlMs: 60_000, log: rt.log });
    while (gh.count('repos/create-deployment-status') === 0) await sleep(10);
    await record.finish(entry.id, { state: 'success', description: 'deployed' });
    expect(states(0)).toEqual(['in_progress', 'success']);
  });
});
