import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import http from 'node:http';
import { createGitHubClient, repoClient, type RepoClient } from '../../src/github/client.js';
import { apiFailure } from '../../src/github/errors.js';
import {
  createDeployment,
  deploymentStatuses,
  getDeployment,
  latestSuccessfulDeployment,
  listDeployments,
  setDeploymentStatus,
  successfulDeployments,
} from '../../src/github/deployments.js';
import { startGitHubServer, type GitHubServer } from '../helpers/github-server.js';

const TOKEN = 'ghs_clientTestToken0123456789';
let gh: GitHubServer;

function client(options: { timeoutMs?: number; retries?: number } = {}) {
  const rt = createMemoryRuntime({
    env: { GITHUB_API_URL: gh.url, GITHUB_REPOSITORY: 'acme/shop', SLIPWAY_RETRY_BASE_MS: '1' },
  });
  const octokit = createGitHubClient({ token: TOKEN, runtime: rt, ...options });
  return { rt, repo: repoClient(octokit, rt.env) };
}

beforeEach(async () => {
  gh = await startGitHubServer({ token: TOKEN });
  gh.state.repo().addCommit('feat: first');
});
afterEach(async () => {
  expect(gh.violations).toEqual([]);
  await gh.stop();
});

const getRepo = ({ octokit, owner, repo }: RepoClient) => octokit.rest.repos.get({ owner, repo });

describe('the GitHub client', () => {
  it('sends the token, to GITHUB_API_URL', async () => {
    const { repo } = client();
    const res = await getRepo(repo);
    expect(res.data.default_branch).toBe('main');
    expect(gh.requests.map((r) => r.token)).toEqual([TOKEN]);
  });

  it.each([502, 403, 429] as const)('retries a %s and then succeeds', async (status) => {
    const { repo, rt } = client();
    gh.failNext('repos/get', status, 2);
    const res = await getRepo(repo);
    expect(res.status).toBe(200);
    expect(gh.count('repos/get')).toBe(3);
    expect(rt.text()).not.toContain(TOKEN);
  });

  it('gives up after the configured retries', async () => {
    const { repo } = client({ retries: 2 });
    gh.failNext('repos/get', 502, 10);
    await expect(getRepo(repo)).rejects.toMatchObject({ status: 502 });
    expect(gh.count('repos/get')).toBe(3);
  });

  it('times out a request that never answers, and retries it', async () => {
    const { repo } = client({ timeoutMs: 300 });
    gh.failNext('repos/get', 'hang', 1);
    const res = await getRepo(repo);
    expect(res.status).toBe(200);
    expect(gh.count('repos/get')).toBe(2);
  });

  it('reports an API it cannot connect to as unreachable, with the attempts, not as an HTTP 500', async () => {
    // A port nothing listens on: every attempt is refused.
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const rt = createMemoryRuntime({
      env: { GITHUB_API_URL: `http://127.0.0.1:${port}`, GITHUB_REPOSITORY: 'acme/shop', SLIPWAY_RETRY_BASE_MS: '1' },
    });
    const repo = repoClient(createGitHubClient({ token: TOKEN, runtime: rt, retries: 2 }), rt.env);
    const err = await getRepo(repo).then(
      () => null,
      (e: unknown) => e,
    );
    const message = (apiFailure(err) as Error).message;
    expect(message).toBe(
      `cannot reach the GitHub API at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port} (GET /repos/acme/shop, after 3 attempts); check GITHUB_API_URL and the network`,
    );
    expect(message).not.toContain(TOKEN);
  });

  it('still reports a status the API answered with as that status', async () => {
    const { repo } = client({ retries: 1 });
    gh.failNext('repos/get', 502, 10);
    const err = await getRepo(repo).then(
      () => null,
      (e: unknown) => e,
    );
    expect((apiFailure(err) as Error).message).toMatch(/^GitHub API: GET \/repos\/acme\/shop failed with 502: /);
  });

  it('masks the token through the runtime', () => {
    const { rt } = client();
    expect(rt.redact(`Authorization: token ${TOKEN}`)).toBe('Authorization: token ***');
  });
});

describe('the test server holds requests to the API description', () => {
  it('records an unknown operation', async () => {
    const { repo } = client();
    await expect(
      repo.octokit.request('GET /repos/{owner}/{repo}/no-such-thing', { owner: 'acme', repo: 'shop' }),
    ).rejects.toMatchObject({
      status: 404,
    });
    expect(gh.violations).toHaveLength(1);
    expect(gh.violations[0].problems[0]).toMatch(/no such operation/);
    gh.violations.length = 0;
  });

  it('records a body that does not match the schema', async () => {
    const { repo } = client();
    await expect(
      repo.octokit.request('POST /repos/{owner}/{repo}/git/refs', {
        owner: 'acme',
        repo: 'shop',
        ref: 7,
        sha: 'abc',
        makeLatest: true,
      } as never),
    ).rejects.toMatchObject({ status: 422 });
    expect(gh.violations[0].problems).toEqual([
      'body.ref: expected string, got integer 7',
      'body: unknown property "makeLatest"',
    ]);
    gh.violations.length = 0;
  });
});

describe('deployments', () => {
  it('records deployments and finds what an environment runs', async () => {
    const { repo } = client();
    const r = gh.state.repo();
    const first = r.refs.get('refs/heads/main')!;
    const d1 = await createDeployment(repo, { ref: first, environment: 'production', payload: { version: '1.0.0' } });
    await setDeploymentStatus(repo, d1.id, 'in_progress');
    await setDeploymentStatus(repo, d1.id, 'success', { environmentUrl: 'https://example.com' });
    const second = r.addCommit('fix: second');
    const d2 = await createDeployment(repo, { ref: second, environment: 'production', payload: { version: '1.0.1' } });
    await createDeployment(repo, { ref: second, environment: 'staging', task: 'deploy:migrate' });

    expect(await latestSuccessfulDeployment(repo, 'production')).toMatchObject({
      id: d1.id,
      sha: first,
      payload: { version: '1.0.0' },
    });
    await setDeploymentStatus(repo, d2.id, 'success');
    const now = await latestSuccessfulDeployment(repo, 'production');
    expect(now).toMatchObject({ id: d2.id, sha: second, payload: { version: '1.0.1' }, status: { state: 'success' } });
    // The earlier one went inactive (auto_inactive), but it did succeed once.
    expect((await deploymentStatuses(repo, d1.id)).map((s) => s.state)).toEqual(['inactive', 'success', 'in_progress']);
    expect((await successfulDeployments(repo, 'production')).map((d) => d.id)).toEqual([d2.id, d1.id]);

    expect((await listDeployments(repo, { environment: 'staging', task: 'deploy:migrate' })).map((d) => d.sha)).toEqual(
      [second],
    );
    expect(await listDeployments(repo, { environment: 'staging', task: 'deploy' })).toEqual([]);
    expect(await getDeployment(repo, 9999)).toBeNull();
    expect(await latestSuccessfulDeployment(repo, 'staging')).toBeNull();
  });

  it('pages through long lists', async () => {
    const { repo } = client();
    const sha = gh.state.repo().refs.get('refs/heads/main')!;
    for (let i = 0; i < 5; i++) await createDeployment(repo, { ref: sha, environment: 'qa', payload: { n: i } });
    const all = await listDeployments(repo, { environment: 'qa', limit: 2 });
    expect(all.map((d) => d.payload.n)).toEqual([4, 3]);
    const statuses = await gh.state.repo().deployments.length;
    expect(statuses).toBe(5);
  });
});
