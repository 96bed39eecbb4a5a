/**
 * The bundled build-selective on workflow_dispatch with an environment: the base is read from
 * GitHub Deployments (the OpenAPI-checked server), as deploy's own GitHubRecord wrote them.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { GitHubRecord } from '../../src/deploy/record/github.js';
import { githubDeploymentsApi } from '../../src/deploy/record/github-api.js';
import type { DeploymentState, DeploymentTask } from '../../src/deploy/record/record.js';
import { createGitHubClient, repoClient } from '../../src/github/client.js';
import { startGitHubServer, type GitHubServer } from '../helpers/github-server.js';
import { createRepo, type TestRepo } from '../helpers/git-repo.js';
import { errorLines, runBundledAction } from '../helpers/run-action.js';

const TOKEN = 'ghs_buildSelectiveToken0123456789';
let gh: GitHubServer;
let r: TestRepo;
let commits: Record<'v1' | 'good' | 'failed' | 'running' | 'head', string>;

beforeEach(async () => {
  r = createRepo();
  r.commit('init', {
    '.github/slipway.yml': [
      'components:',
      '  lib: { paths: [lib/**] }',
      '  api: { paths: [api/**], dependsOn: [lib] }',
      '  web: { paths: [web/**] }',
      '',
    ].join('\n'),
    'lib/a.txt': '1\n',
    'api/b.txt': '1\n',
    'web/c.txt': '1\n',
  });
  const v1 = r.head();
  r.tag('v1.0.0');
  const good = r.commit('web 2', { 'web/c.txt': '2\n' });
  const failed = r.commit('api 2', { 'api/b.txt': '2\n' });
  const running = r.commit('web 3', { 'web/c.txt': '3\n' });
  const head = r.commit('lib 2', { 'lib/a.txt': '2\n' });
  commits = { v1, good, failed, running, head };
  gh = await startGitHubServer({ token: TOKEN });
  gh.state.repo().importGit(r.dir);
});
afterEach(async () => {
  expect(gh.violations).toEqual([]);
  await gh.stop();
  r.cleanup();
});

/** Record a deployment on the server through deploy's own GitHubRecord. */
async function recordDeploy(
  sha: string,
  versions: Record<string, string>,
  state: Extract<DeploymentState, 'success' | 'failure' | 'error' | 'in_progress'>,
  task: DeploymentTask = 'deploy',
): Promise<void> {
  const rt = createMemoryRuntime({ env: { GITHUB_API_URL: gh.url, GITHUB_REPOSITORY: 'acme/shop' } });
  const record = new GitHubRecord(
    githubDeploymentsApi(repoClient(createGitHubClient({ token: TOKEN, runtime: rt, retryBaseMs: 1 }), rt.env)),
  );
  const entry = await record.begin(
    { environment: 'staging', task, ref: 'main', sha, versions, creator: 'octocat', description: task },
    { timeoutMs: 1000, ttlMs: 600_000, log: rt.log, pollMs: 1 },
  );
  if (state !== 'in_progress') await record.finish(entry.id, { state, description: state });
}

function dispatch(inputs: Record<string, string> = {}) {
  return runBundledAction('build-selective', {
    cwd: r.dir,
    inputs: { environment: 'staging', token: TOKEN, ...inputs },
    eventName: 'workflow_dispatch',
    env: { GITHUB_API_URL: gh.url, GITHUB_REF: 'refs/heads/main', SLIPWAY_RETRY_BASE_MS: '1' },
  });
}

describe('the dispatch base from GitHub Deployments', () => {
  it('is the last successful deployment; failed and in-progress ones are skipped', async () => {
    await recordDeploy(commits.good, { web: '1.1.0' }, 'success');
    await recordDeploy(commits.failed, { web: '1.2.0' }, 'failure');
    await recordDeploy(commits.running, { web: '1.3.0' }, 'in_progress');
    const run = await dispatch();
    expect(errorLines(run)).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.base).toBe(commits.good);
    expect(JSON.parse(run.outputs.changed)).toEqual(['lib', 'web', 'api']);
    expect(run.stdout).toContain('GitHub Deployments: staging runs');
    expect(run.stdout).toContain('the last successful deployment to staging');
    expect(run.stdout.split('\n').filter((l) => l.includes(TOKEN) && !l.startsWith('::add-mask::'))).toEqual([]);
    expect(gh.requests.some((q) => q.operationId === 'repos/list-deployments' && q.token === TOKEN)).toBe(true);
  });

  it('after a manual rollback, is the commit that shipped the versions now running', async () => {
    await recordDeploy(commits.good, { web: '1.1.0', api: '1.1.0' }, 'success');
    await recordDeploy(commits.running, { web: '1.3.0', api: '1.3.0' }, 'success');
    await recordDeploy(commits.head, { web: '1.1.0', api: '1.1.0' }, 'success', 'deploy:rollback');
    const run = await dispatch();
    expect(run.code).toBe(0);
    expect(run.outputs.base).toBe(commits.good);
    expect(run.stdout).toMatch(/put back web@1\.1\.0, api@1\.1\.0, shipped by deployment #\d+/);
  });

  it("ignores the job's own deployment and other tools' deployments", async () => {
    await recordDeploy(commits.good, { web: '1.1.0' }, 'success');
    const repo = gh.state.repo();
    // Newer successes that are not Slipway's: a finished job's deployment and another tool's.
    repo.startJobDeployment('staging', { sha: commits.running }).finish('success');
    repo.addDeployment({
      environment: 'staging',
      sha: commits.failed,
      payload: { versions: { web: '7.0.0' } },
      creator: 'other-bot',
      states: ['success'],
    });
    const run = await dispatch();
    expect(run.code).toBe(0);
    expect(run.outputs.base).toBe(commits.good);
  });

  it('with no successful deployment, is the previous tag', async () => {
    await recordDeploy(commits.failed, { web: '1.2.0' }, 'failure');
    const run = await dispatch();
    expect(run.code).toBe(0);
    expect(run.outputs.base).toBe(commits.v1);
    expect(run.stdout).toContain('No successful deployment to staging found; using the previous tag');
  });

  it('when GitHub cannot be read, warns and uses the previous tag', async () => {
    await recordDeploy(commits.good, { web: '1.1.0' }, 'success');
    gh.failNext('repos/list-deployments', 502, 10);
    const run = await dispatch();
    expect(errorLines(run)).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.base).toBe(commits.v1);
    const warnings = run.stdout.split('\n').filter((l) => l.startsWith('::warning'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^::warning::Could not read the deployments of staging: .*; using the previous tag\.$/);
  });
});
