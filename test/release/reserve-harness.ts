/**
 * The reserve tests' world: a product repository and the OpenAPI-checked GitHub server (new
 * for each test, its violations checked), and tag-release and deploy run as a given commit's
 * job would run them.
 */
import type { ActionDefinition, InputFields } from '../../src/core/inputs.js';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { deploy as deployAction } from '../../src/deploy/deploy-action.js';
import { invokeAction } from '../../src/pipeline/invoke.js';
import { tagRelease } from '../../src/release/tag-release.js';
import { startGitHubServer, type GitHubServer } from '../helpers/github-server.js';
import { stringify } from 'yaml';
import { createProduct, logged, type Product } from '../deploy/fixture.js';

/** Registers beforeEach/afterEach; the returned getters and runners see the current test's world. */
export function reserveHarness(token: string, runId: string) {
  let gh: GitHubServer;
  let p: Product;
  beforeEach(async () => {
    p = await createProduct();
    gh = await startGitHubServer({ token });
  });
  afterEach(async () => {
    expect(gh.violations).toEqual([]);
    await gh.stop();
    await p.close();
  });

  const env = (sha: string) => ({
    ...process.env,
    DEPLOY_LOG: `${p.dir}/deploy.log`,
    GITHUB_API_URL: gh.url,
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_SHA: sha,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_ACTOR: 'octocat',
    GITHUB_RUN_ID: runId,
    SLIPWAY_RETRY_BASE_MS: '1',
  });

  return {
    product: () => p,
    /** The product's api and its py SDK with a series of its own, released as v0.1.0 and py/1.37.5. */
    apiAndPySdk() {
      p.writeConfig(
        stringify({
          components: {
            api: { deploy: { run: logged() } },
            py: { paths: ['sdk/python/**'], tag: 'py/{version}', deploy: { run: logged() } },
          },
          environments: { staging: { url: p.url } },
        }),
      );
      p.repo.commit('chore: init', { 'sdk/python/client.py': 'x = 1\n' });
      p.repo.tag('v0.1.0');
      p.repo.tag('py/1.37.5');
    },
    github: () => gh,
    env,
    /** tag-release as commit `sha`'s job runs it. */
    tag(sha: string, inputs: Record<string, string | boolean>) {
      const rt = createMemoryRuntime({ cwd: p.dir, env: env(sha) });
      return invokeAction(tagRelease as unknown as ActionDefinition<InputFields>, { token, ...inputs }, rt);
    },
    /** deploy of `version` to staging as commit `sha`'s job runs it; the error, or null. */
    async deploy(sha: string, version: string): Promise<Error | null> {
      const rt = createMemoryRuntime({ cwd: p.dir, env: env(sha) });
      try {
        await deployAction.run(p.inputs({ environment: 'staging', timeout: '2', token, version }), rt);
        return null;
      } catch (err) {
        return err as Error;
      }
    },
  };
}
