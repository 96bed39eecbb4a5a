/**
 * The pipeline in-process (the root action's code, and the CLI's plan): what it checks before
 * anything is built or deployed, and which series a hotfix releases.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { localOverrides } from '../../src/cli/local-actions.js';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import type { Runtime } from '../../src/core/runtime.js';
import { emptyDatabase } from '../../src/migrations/empty-database.js';
import { runMigrateAction, type MigrateInputs } from '../../src/migrations/migrate.js';
import { PipelineError, runPipeline, type PipelineOptions } from '../../src/pipeline/pipeline.js';
import { createRepo, type TestRepo } from '../helpers/git-repo.js';

const repos: TestRepo[] = [];
afterEach(() => {
  while (repos.length) repos.pop()!.cleanup();
});

function repo(): TestRepo {
  const r = createRepo();
  repos.push(r);
  return r;
}

/** A runner's environment without the variables a runner sets for the job's own repository. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...extra };
}

const options = (extra: Partial<PipelineOptions> = {}): PipelineOptions => ({
  mode: 'main',
  config: '',
  environments: [],
  toVersion: '',
  build: true,
  token: '',
  dryRun: false,
  healthTimeout: 2,
  branch: 'main',
  ...extra,
});

async function settle(run: Promise<unknown>): Promise<PipelineError> {
  const error = await run.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PipelineError);
  return error as PipelineError;
}

describe('the token a run that tags needs', () => {
  const policy = [
    'components:',
    '  api:',
    '    paths: [api/**]',
    '    build: { run: "touch built.marker" }',
    '    deploy: { run: "touch deployed-$SLIPWAY_ENVIRONMENT.marker" }',
    'environments:',
    '  staging: {}',
    '  production: { after: staging }',
    '',
  ].join('\n');

  it('an empty token fails in one line naming the input before anything is built or deployed', async () => {
    const r = repo();
    r.commit('feat: api', { '.github/slipway.yml': policy, 'api/a.txt': 'a', '.gitignore': '*.marker\n.slipway/\n' });
    const rt = createMemoryRuntime({ cwd: r.dir, env: env({ GITHUB_ACTIONS: 'true' }) });
    const error = await settle(runPipeline(options(), rt));
    expect(error.message).toBe(
      'input "token": empty, but this run releases v0.1.0, api-v0.1.0: a GitHub token with contents: write is needed to create the tags and releases (nothing was built or deployed)',
    );
    expect(error.result.status).toBe('failed');
    expect(error.result.steps.map((s) => `${s.step} ${s.result}`)).toEqual(['version ok', 'token failed']);
    for (const marker of ['built.marker', 'deployed-staging.marker', 'deployed-production.marker'])
      expect([marker, existsSync(path.join(r.dir, marker))]).toEqual([marker, false]);
  });

  it('a dry run, and the CLI’s local tag-release, need no token', async () => {
    const r = repo();
    r.commit('feat: api', { '.github/slipway.yml': policy, 'api/a.txt': 'a', '.gitignore': '*.marker\n.slipway/\n' });
    const plan = await runPipeline(options({ dryRun: true }), createMemoryRuntime({ cwd: r.dir, env: env() }));
    expect(plan.steps.find((s) => s.step === 'release')?.detail).toMatch(/^v0\.1\.0 \(dry run: would be created\)/);
    const local = await runPipeline(options(), createMemoryRuntime({ cwd: r.dir, env: env() }), localOverrides());
    expect(local.status).toBe('success');
    expect(local.tag).toBe('v0.1.0');
    expect(existsSync(path.join(r.dir, 'deployed-production.marker'))).toBe(true);
  });

  it('a run that releases nothing needs no token, and builds and deploys nothing, saying why', async () => {
    const r = repo();
    r.commit('feat: api', { '.github/slipway.yml': policy, 'api/a.txt': 'a', '.gitignore': '*.marker\n.slipway/\n' });
    r.tag('v0.1.0');
    r.tag('api-v0.1.0');
    // A commit of no release type touching api: api stays at 0.1.0, which is the tagged commit's.
    r.commit('chore(api): tidy', { 'api/a.txt': 'b' });
    const rt = createMemoryRuntime({ cwd: r.dir, env: env() });
    const result = await runPipeline(options({ environments: ['staging'] }), rt);
    expect(result.status).toBe('nothing-to-do');
    expect(result.release).toBe(false);
    expect(rt.text()).toContain('api: changed, but this run releases no new version of it');
    for (const marker of ['built.marker', 'deployed-staging.marker'])
      expect([marker, existsSync(path.join(r.dir, marker))]).toEqual([marker, false]);
    expect(result.steps.find((s) => s.step === 'build')).toMatchObject({ result: 'ok', detail: 'nothing changed' });
    expect(result.steps.at(-1)).toMatchObject({ step: 'release', result: 'skipped' });
  });
});

describe('mode hotfix', () => {
  const policy = [
    'components:',
    '  schema: { kind: migrations, tag: "schema-v{version}", migrate: { dir: db } }',
    '  api: { paths: [api/**], tag: "api/v{version}", dependsOn: [schema], deploy: { run: "true" } }',
    '  web: { paths: [web/**], series: product, deploy: { run: "true" } }',
    'environments:',
    '  staging: {}',
    '  production: { after: staging }',
    '',
  ].join('\n');

  /** The CLI's actions, with migrate reading an empty history (as `slipway plan` does without a database). */
  const local = () => ({
    ...localOverrides(),
    migrate: async (inputs: Record<string, unknown>, rt: Runtime) => {
      await runMigrateAction(inputs as MigrateInputs, rt, async () => emptyDatabase('no database'));
    },
  });

  /** Released at v1.2.0, schema-v0.2.0 and api/v0.2.0; hotfix/1.2.1 fixes web only. */
  function released(): TestRepo {
    const r = repo();
    r.commit('feat: all', {
      '.github/slipway.yml': policy,
      'db/001_t.sql': 'CREATE TABLE t (id int);\n',
      'api/a.txt': 'a',
      'web/w.txt': 'w',
    });
    for (const t of ['v1.2.0', 'schema-v0.2.0', 'api/v0.2.0']) r.tag(t);
    r.git('checkout', '-q', '-b', 'hotfix/1.2.1');
    r.commit('fix(web): layout', { 'web/w.txt': 'w2' });
    return r;
  }

  it('patches only the series a commit touched: the product, not schema or api', async () => {
    const r = released();
    const rt = createMemoryRuntime({ cwd: r.dir, env: env() });
    const result = await runPipeline(options({ mode: 'hotfix', branch: 'hotfix/1.2.1', dryRun: true }), rt, local());
    expect(result.version).toBe('1.2.1');
    const detail = (step: string) => result.steps.find((s) => s.step === step)?.detail;
    expect(detail('version')).toBe('1.2.0 → 1.2.1 (patch)');
    expect(detail('release')).toBe('v1.2.1 (dry run: would be created)');
    expect(rt.text()).toContain('schema: 0.2.0 → 0.2.0 (no commits since schema-v0.2.0)');
    expect(rt.text()).toContain('api: 0.2.0 → 0.2.0 (no commits since api/v0.2.0)');
    expect(detail('deploy staging')).toBe('wave 1: web (none) → 1.2.1');
  });

  it('refuses a branch whose rule makes no patch release, before anything runs', async () => {
    const r = released();
    r.git('checkout', '-q', 'main');
    const rt = createMemoryRuntime({ cwd: r.dir, env: env() });
    await expect(runPipeline(options({ mode: 'hotfix', branch: '', dryRun: true }), rt, local())).rejects.toThrow(
      /^mode hotfix: branch main follows the rule "main" \(channel stable\), which makes no patch release; run a hotfix from a branch whose rule does \(hotfix\/\*: channel stable, bump patch\)$/,
    );
    expect(rt.text()).not.toMatch(/version-bump|Branch main/);
  });
});
