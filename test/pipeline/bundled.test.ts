/**
 * The bundled root action (dist/pipeline), run as a runner runs it: the outputs are set when
 * the chain stops early, and what serves after a rollback must pass the smoke tests. With a
 * token, as on a runner (a run that releases needs one before it deploys anything): the
 * deployments are recorded in the fake GitHub.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { stringify } from 'yaml';
import { createProduct, logged, type Product } from '../deploy/fixture.js';
import { startGitHubServer, type GitHubServer } from '../helpers/github-server.js';
import { errorLines, runBundledAction } from '../helpers/run-action.js';

const TOKEN = 'ghs_pipelineTestToken0123456789';
let p: Product;
let gh: GitHubServer;
let env: Record<string, string>;
let tagged = '';

beforeAll(async () => {
  p = await createProduct();
  gh = await startGitHubServer({ token: TOKEN });
  env = { DEPLOY_LOG: `${p.dir}/deploy.log`, GITHUB_API_URL: gh.url, INPUT_TOKEN: TOKEN, SLIPWAY_RETRY_BASE_MS: '1' };
  p.writeConfig(
    stringify({
      components: {
        api: { paths: ['api/**'], deploy: { run: logged() }, health: [{ http: '/health/api' }] },
        web: { paths: ['web/**'], deploy: { run: logged() }, health: [{ http: '/health/web' }] },
        // Not deployed by Slipway, so only the smoke test checks it: how a test breaks what serves.
        proxy: { health: [{ http: '/health/proxy' }] },
      },
      environments: { staging: { url: p.url } },
    }),
  );
  p.repo.git('add', '-A');
  tagged = p.repo.commit('feat: api and web', {
    'api/a.txt': 'a\n',
    'web/w.txt': 'w\n',
    '.gitignore': 'state/\n.slipway/\ndeploy.log\n',
  });
  p.repo.tag('v1.0.0');
  gh.state.repo().importGit(p.dir);
  for (const version of ['1.0.0', '1.0.1']) {
    const first = await runBundledAction('deploy', { cwd: p.dir, env, inputs: { environment: 'staging', version } });
    expect(errorLines(first)).toEqual([]);
  }
  // Recorded where the pipeline reads them with its token: GitHub Deployments.
  expect(gh.count('repos/create-deployment')).toBe(2);
  p.repo.commit('feat: a faster api', { 'api/a.txt': 'b\n' });
  gh.state.repo().importGit(p.dir);
});
afterAll(async () => {
  expect(gh.violations).toEqual([]);
  await gh.stop();
  await p.close();
});

const breakProxy = () => p.bad.set('proxy', new Set(['']));

const pipeline = (inputs: Record<string, string>) =>
  runBundledAction('pipeline', {
    cwd: p.dir,
    env,
    event: { before: tagged },
    inputs: { environments: 'staging', 'health-timeout': '2', ...inputs },
  });

describe('the bundled pipeline, mode main', () => {
  it('an unhealthy version is rolled back: the run fails, with the version and status rolled-back as outputs', async () => {
    p.bad.set('api', new Set(['1.1.0']));
    const run = await pipeline({ mode: 'main' });
    expect(run.code).toBe(1);
    expect(run.outputs.version).toBe('1.1.0');
    expect(run.outputs.release).toBe('true');
    expect(run.outputs.status).toBe('rolled-back');
    expect(JSON.parse(run.outputs.deployed)).toEqual({ staging: { api: '1.0.1' } });
    expect(run.outputs.tag).toBe('');
    expect(errorLines(run).at(-1)).toMatch(/^::error ?::deploy to staging was rolled back: /);
    expect(run.stdout).toContain('✔ smoke-test staging: 3 check(s) passed');
    expect(run.summary).toContain('| deploy staging | rolled-back |');
  }, 60_000);

  it('a rollback that leaves a failing environment fails the run with status failed', async () => {
    p.bad.set('api', new Set(['1.1.0']));
    breakProxy();
    try {
      const run = await pipeline({ mode: 'main' });
      expect(run.code).toBe(1);
      expect(run.outputs.version).toBe('1.1.0');
      expect(run.outputs.status).toBe('failed');
      expect(errorLines(run).at(-1)).toMatch(
        /^::error ?::deploy to staging was rolled back, and the smoke tests failed on the version rolled back to: /,
      );
    } finally {
      p.bad.delete('proxy');
    }
  }, 60_000);

  it('a failure before the first step still sets status', async () => {
    const run = await pipeline({ mode: 'main', config: '.github/missing.yml' });
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('failed');
    expect(errorLines(run)).toHaveLength(1);
  }, 60_000);
});

describe('the bundled pipeline, mode rollback', () => {
  it('returns to the previous version and smoke-tests it', async () => {
    p.bad.clear();
    const run = await pipeline({ mode: 'rollback' });
    expect(errorLines(run)).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe('success');
    expect(JSON.parse(run.outputs.deployed)).toEqual({ staging: { api: '1.0.0', web: '1.0.0' } });
    expect(run.stdout).toContain('✔ smoke-test staging: 3 check(s) passed');
  }, 60_000);

  it('fails when the version rolled back to does not pass the smoke tests', async () => {
    breakProxy();
    const run = await pipeline({ mode: 'rollback', 'to-version': '1.0.1' });
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('failed');
    expect(errorLines(run).at(-1)).toMatch(/^::error ?::smoke tests failed on staging after the rollback$/);
  }, 60_000);
});
