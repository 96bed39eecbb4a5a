import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createBuildSelective, localServices, type BuildSelectiveServices } from '../../src/changes/build-selective.js';
import { folderCache } from '../../src/changes/cache.js';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { inputVariable, parseInputs } from '../../src/core/inputs.js';
import { FileLedger } from '../../src/deploy/record/file-ledger.js';
import type { DeploymentState, DeploymentTask } from '../../src/deploy/record/record.js';
import { versionBump } from '../../src/versioning/version-bump.js';
import { cloneRepo, createRepo, type TestRepo } from '../helpers/git-repo.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function tmp(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-bs-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function track(r: TestRepo): TestRepo {
  cleanups.push(() => r.cleanup());
  return r;
}

const POLICY = [
  'components:',
  '  shared: { paths: [libs/shared/**] }',
  '  postgres: { kind: data }',
  '  schema: { kind: migrations, dependsOn: [postgres], migrate: { dir: db/migrations } }',
  '  backend:',
  '    paths: [services/backend/**, "!services/backend/**/*.md"]',
  '    dependsOn: [shared, schema]',
  '  frontend: { paths: [web/**], dependsOn: [backend] }',
  '  docs: { paths: [docs/**, "**/*.md"] }',
  '',
].join('\n');

/** A product repository with every component's files, on main. */
function product(policy = POLICY): TestRepo {
  const r = track(createRepo());
  r.commit('chore: scaffold', {
    '.github/slipway.yml': policy,
    'libs/shared/index.ts': 'export const x = 1;\n',
    'services/backend/main.ts': 'main\n',
    'services/backend/README.md': 'readme\n',
    'services/backend/.env.example': 'A=1\n',
    'db/migrations/001.sql': 'create table a();\n',
    'web/app.ts': 'app\n',
    'web/old.ts': 'old\n',
    'docs/guide.md': 'guide\n',
  });
  return r;
}

interface Run {
  outputs: Record<string, string>;
  log: string;
  warnings: string[];
  summary: string;
}

interface RunOptions {
  eventName?: string;
  event?: unknown;
  ref?: string;
  services?: BuildSelectiveServices;
  env?: Record<string, string>;
}

/** Run build-selective in-process as a runner would set it up (event file, GITHUB_* variables). */
async function selective(r: TestRepo, inputs: Record<string, string> = {}, options: RunOptions = {}): Promise<Run> {
  const { run, error } = await selectiveSettled(r, inputs, options);
  if (error) throw error;
  return run;
}

/** As selective, but a failed run still gives what it wrote (outputs, log, summary) with its error. */
async function selectiveSettled(
  r: TestRepo,
  inputs: Record<string, string> = {},
  options: RunOptions = {},
): Promise<{ run: Run; error: unknown }> {
  const dir = tmp();
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env };
  if (options.eventName !== undefined) {
    env.GITHUB_EVENT_NAME = options.eventName;
    env.GITHUB_EVENT_PATH = path.join(dir, 'event.json');
    writeFileSync(env.GITHUB_EVENT_PATH, JSON.stringify(options.event ?? {}));
  }
  if (options.ref) env.GITHUB_REF = options.ref;
  for (const [k, v] of Object.entries(inputs)) env[inputVariable(k)] = v;
  const action = createBuildSelective(options.services ?? localServices);
  const rt = createMemoryRuntime({ env, cwd: r.dir });
  let error: unknown = null;
  try {
    await action.run(parseInputs(action.inputs, env, rt), rt);
  } catch (err) {
    error = err;
  }
  const run = {
    outputs: rt.outputs,
    log: rt.text(),
    warnings: rt.records.filter((x) => x.level === 'warning').map((x) => x.message),
    summary: rt.summaries.join('\n'),
  };
  return { run, error };
}

/** Record a deployment in the workspace's ledger through deploy's own FileLedger. */
async function recordDeploy(
  dir: string,
  environment: string,
  sha: string,
  versions: Record<string, string>,
  state: Extract<DeploymentState, 'success' | 'failure' | 'error' | 'in_progress'>,
  task: DeploymentTask = 'deploy',
): Promise<void> {
  const ledger = new FileLedger(dir);
  const log = createMemoryRuntime().log;
  const request = { environment, task, ref: 'main', sha, versions, creator: 'test', description: task };
  const entry = await ledger.begin(request, { timeoutMs: 1000, ttlMs: 60_000, log });
  if (state !== 'in_progress') await ledger.finish(entry.id, { state, description: state });
}

const changed = (run: Run) => JSON.parse(run.outputs.changed) as string[];

describe('selecting on push', () => {
  it('selects the changed component and, transitively, what depends on it, in dependency order', async () => {
    const r = product();
    const before = r.head();
    r.commit('fix: shared', { 'libs/shared/index.ts': 'export const x = 2;\n' });
    const run = await selective(
      r,
      {},
      { eventName: 'push', event: { before, after: r.head() }, ref: 'refs/heads/main' },
    );
    expect(changed(run)).toEqual(['shared', 'backend', 'frontend']);
    expect(run.outputs.base).toBe(before);
    expect(run.outputs.any).toBe('true');
    expect(run.outputs.shared).toBe('true');
    expect(run.outputs.frontend).toBe('true');
    expect(run.outputs.docs).toBe('false');
    expect(JSON.parse(run.outputs.files)).toEqual({ shared: ['libs/shared/index.ts'], backend: [], frontend: [] });
    expect(JSON.parse(run.outputs.matrix)).toEqual({
      include: [
        { component: 'shared', paths: ['libs/shared/**'] },
        { component: 'backend', paths: ['services/backend/**', '!services/backend/**/*.md'] },
        { component: 'frontend', paths: ['web/**'] },
      ],
    });
    expect(run.log).toContain('push: the commit before the push');
    expect(run.summary).toContain('depends on shared');
    expect(run.summary).toContain('depends on backend');
    expect(run.summary).toContain('`libs/shared/index.ts` changed');
    expect(run.summary).toContain('```mermaid');
  });

  it('selects a migrations component from its migrate.dir, and its dependents', async () => {
    const r = product();
    const before = r.head();
    r.commit('feat: table b', { 'db/migrations/002.sql': 'create table b();\n' });
    const run = await selective(r, {}, { eventName: 'push', event: { before }, ref: 'refs/heads/main' });
    expect(changed(run)).toEqual(['schema', 'backend', 'frontend']);
  });

  it('counts a rename for both components, and a deletion', async () => {
    const r = product();
    const before = r.head();
    r.git('mv', 'libs/shared/index.ts', 'services/backend/shared.ts');
    r.git('rm', '-q', 'web/old.ts');
    r.git('commit', '-q', '-m', 'refactor: move shared into backend');
    const run = await selective(r, {}, { eventName: 'push', event: { before }, ref: 'refs/heads/main' });
    expect(changed(run)).toEqual(['shared', 'backend', 'frontend']);
    const files = JSON.parse(run.outputs.files);
    expect(files.shared).toEqual(['libs/shared/index.ts']);
    expect(files.backend).toEqual(['services/backend/shared.ts']);
    expect(files.frontend).toEqual(['web/old.ts']);
  });

  it('honours negation and matches dotfiles', async () => {
    const r = product();
    const before = r.head();
    r.commit('docs: backend readme', { 'services/backend/README.md': 'more\n' });
    const onlyDocs = await selective(r, {}, { eventName: 'push', event: { before }, ref: 'refs/heads/main' });
    expect(changed(onlyDocs)).toEqual(['docs']);
    const before2 = r.head();
    r.commit('chore: env', { 'services/backend/.env.example': 'A=2\n' });
    const dot = await selective(r, {}, { eventName: 'push', event: { before: before2 }, ref: 'refs/heads/main' });
    expect(changed(dot)).toEqual(['backend', 'frontend']);
  });

  it('a plain folder path selects what version-bump releases: the folder and everything in it', async () => {
    const r = track(createRepo());
    r.commit('chore: init', {
      '.github/slipway.yml':
        'components:\n  folder: { paths: [svc/a] }\n  trailing: { paths: [svc/a/] }\n  other: { paths: [svc/ab] }\n',
      'svc/a/f': '1\n',
      'svc/ab': '1\n',
    });
    r.tag('v0.1.0');
    const before = r.head();
    r.commit('fix: svc a', { 'svc/a/f': '2\n' });
    const run = await selective(r, {}, { eventName: 'push', event: { before }, ref: 'refs/heads/main' });
    expect(changed(run)).toEqual(['folder', 'trailing']);
    const env: NodeJS.ProcessEnv = { [inputVariable('branch')]: 'main' };
    const rt = createMemoryRuntime({ env, cwd: r.dir });
    await versionBump.run(parseInputs(versionBump.inputs, env, rt), rt);
    const components = JSON.parse(rt.outputs.components) as Record<string, { release: boolean }>;
    expect(Object.entries(components).map(([n, c]) => [n, c.release])).toEqual([
      ['folder', true],
      ['trailing', true],
      ['other', false],
    ]);
  });

  it('selects nothing, successfully, when no component is touched', async () => {
    const r = product();
    const before = r.head();
    r.commit('chore: ci', { '.github/workflows/ci.yml': 'on: push\n' });
    const run = await selective(r, {}, { eventName: 'push', event: { before }, ref: 'refs/heads/main' });
    expect(changed(run)).toEqual([]);
    expect(run.outputs.any).toBe('false');
    expect(JSON.parse(run.outputs.matrix)).toEqual({ include: [] });
  });

  it("holds back a changed component whose version the run does not release (version-bump's released output)", async () => {
    const r = product();
    const before = r.head();
    r.commit('refactor: shared and the web app', {
      'libs/shared/index.ts': 'export const x = 3;\n',
      'web/app.ts': 'app 2\n',
    });
    const push = { eventName: 'push', event: { before, after: r.head() }, ref: 'refs/heads/main' };
    const some = await selective(r, { released: '["frontend","docs"]' }, push);
    expect(changed(some)).toEqual(['frontend']);
    expect(JSON.parse(some.outputs.matrix)).toEqual({ include: [{ component: 'frontend', paths: ['web/**'] }] });
    expect(some.outputs.backend).toBe('false');
    expect(some.log).toContain(
      'shared, backend: changed, but this run releases no new version of them (no commit since their last release asks for one: feat:, fix:…), so they are not built or deployed.',
    );
    // Nothing released: nothing to build or deploy, and the run succeeds.
    const none = await selective(r, { released: '[]' }, push);
    expect(changed(none)).toEqual([]);
    expect(none.outputs.any).toBe('false');
    // Empty: no filter, as before.
    expect(changed(await selective(r, {}, push))).toEqual(['shared', 'backend', 'frontend']);
    // A list that is not one, or a name that is no component, is refused before anything is selected.
    const notJson = await selectiveSettled(r, { released: 'frontend' }, push);
    expect((notJson.error as Error).message).toBe(
      `input "released": expected a JSON array of component names (version-bump's released output), but it is not valid JSON`,
    );
    expect(notJson.run.outputs.changed).toBeUndefined();
    const typo = await selectiveSettled(r, { released: '["fronted"]' }, push);
    expect((typo.error as Error).message).toBe(
      'input "released": unknown component "fronted" (expected one of: shared, postgres, schema, backend, frontend, docs)',
    );
  });

  it('compares a new branch with its merge-base with the default branch', async () => {
    const origin = product();
    origin.commit('feat: web', { 'web/app.ts': 'app2\n' });
    const clone = track(cloneRepo(origin));
    clone.git('checkout', '-q', '-b', 'feature/x');
    clone.commit('feat: backend', { 'services/backend/main.ts': 'main2\n' });
    const run = await selective(
      clone,
      {},
      {
        eventName: 'push',
        event: { before: '0000000000000000000000000000000000000000', repository: { default_branch: 'main' } },
        ref: 'refs/heads/feature/x',
      },
    );
    expect(run.outputs.base).toBe(origin.head());
    expect(changed(run)).toEqual(['backend', 'frontend']);
    expect(run.log).toContain('push of a new branch: merge-base');
  });

  it.each(['main', 'release/1.5'])(
    'selects everything, with a warning, on the first push of %s with no commit of its own',
    async (branch) => {
      const origin = product();
      const clone = track(cloneRepo(origin));
      if (branch !== 'main') clone.git('checkout', '-q', '-b', branch);
      const run = await selective(
        clone,
        {},
        {
          eventName: 'push',
          event: { before: '0'.repeat(40), created: true, repository: { default_branch: 'main' } },
          ref: `refs/heads/${branch}`,
        },
      );
      expect(changed(run)).toHaveLength(6);
      expect(run.warnings.join('\n')).toMatch(
        /push of a new branch with no commit of its own: there is no earlier state to compare with: selecting every component\.$/,
      );
    },
  );

  it('after a force push, compares with the merge-base with the default branch', async () => {
    const origin = product();
    const clone = track(cloneRepo(origin));
    clone.git('checkout', '-q', '-b', 'feature/y');
    clone.commit('wip', { 'docs/guide.md': 'wip\n' });
    const overwritten = clone.head();
    clone.git('reset', '-q', '--hard', 'HEAD~1');
    clone.commit('feat: shared', { 'libs/shared/index.ts': 'y\n' });
    clone.git('reflog', 'expire', '--expire=now', '--all');
    clone.git('gc', '-q', '--prune=now');
    const run = await selective(
      clone,
      {},
      {
        eventName: 'push',
        event: { before: overwritten, repository: { default_branch: 'main' } },
        ref: 'refs/heads/feature/y',
      },
    );
    expect(run.outputs.base).toBe(origin.head());
    expect(changed(run)).toEqual(['shared', 'backend', 'frontend']);
    expect(run.log).toContain('(force push)');
  });

  it('selects everything, with a warning, after a force push on the default branch itself', async () => {
    const r = product();
    r.commit('wip', { 'docs/guide.md': 'wip\n' });
    const overwritten = r.head();
    r.git('reset', '-q', '--hard', 'HEAD~1');
    r.git('reflog', 'expire', '--expire=now', '--all');
    r.git('gc', '-q', '--prune=now');
    const run = await selective(
      r,
      {},
      {
        eventName: 'push',
        event: { before: overwritten, repository: { default_branch: 'main' } },
        ref: 'refs/heads/main',
      },
    );
    expect(changed(run)).toHaveLength(6);
    expect(run.warnings.join('\n')).toMatch(/force push.*default branch/);
  });
});

describe('selecting for pull requests, tags, dispatch and schedule', () => {
  it('counts only the branch’s own changes when the pull request’s base moved on', async () => {
    const r = product();
    r.git('checkout', '-q', '-b', 'feature/pr');
    r.commit('feat: web', { 'web/app.ts': 'pr\n' });
    const prHead = r.head();
    r.git('checkout', '-q', 'main');
    r.commit('feat: shared on main', { 'libs/shared/index.ts': 'main moved\n' });
    const baseSha = r.head();
    r.git('checkout', '-q', 'feature/pr');
    const run = await selective(
      r,
      {},
      { eventName: 'pull_request', event: { pull_request: { base: { sha: baseSha }, head: { sha: prHead } } } },
    );
    expect(changed(run)).toEqual(['frontend']);
    expect(run.outputs.base).not.toBe(baseSha);
    expect(run.log).toContain('pull request: merge-base');
  });

  it('compares a tag push with the previous tag of the same series', async () => {
    const r = product();
    r.tag('v1.0.0');
    r.commit('feat: backend', { 'services/backend/main.ts': 'v1.1\n' });
    r.tag('backend-v2.0.0');
    r.commit('feat: web', { 'web/app.ts': 'v1.1\n' });
    r.tag('v1.1.0-rc.1');
    r.commit('fix: docs', { 'docs/guide.md': 'v1.1\n' });
    r.tag('v1.1.0');
    const run = await selective(r, {}, { eventName: 'push', event: {}, ref: 'refs/tags/v1.1.0' });
    expect(run.outputs.base).toBe(r.git('rev-parse', 'v1.0.0^{commit}').trim());
    expect(changed(run)).toEqual(['docs', 'backend', 'frontend']);
    expect(run.log).toContain('the previous tag of the series, v1.0.0');
  });

  it('dispatch with an environment compares with the last successful deployment in the ledger', async () => {
    const r = product();
    const good = r.commit('feat: web', { 'web/app.ts': 'deployed\n' });
    r.tag('v1.0.0');
    const failed = r.commit('fix: backend', { 'services/backend/main.ts': 'broken\n' });
    const running = r.commit('fix: web again', { 'web/app.ts': 'in flight\n' });
    r.commit('fix: shared', { 'libs/shared/index.ts': 'after deploy\n' });
    // deploy's own ledger, written by deploy's own code: a success, then a failure, then one in progress.
    await recordDeploy(r.dir, 'staging', good, { web: '1.0.0' }, 'success');
    await recordDeploy(r.dir, 'staging', failed, { web: '1.0.1' }, 'failure');
    await recordDeploy(r.dir, 'staging', running, { web: '1.0.2' }, 'in_progress');
    const run = await selective(r, { environment: 'staging' }, { eventName: 'workflow_dispatch' });
    expect(run.outputs.base).toBe(good);
    expect(changed(run)).toEqual(['shared', 'backend', 'frontend']);
    expect(run.log).toContain('the last successful deployment to staging');
    expect(run.log).toContain('the ledger .slipway/deployments.json: staging runs');
    expect(run.warnings).toEqual([]);

    const none = await selective(r, { environment: 'production' }, { eventName: 'schedule' });
    expect(none.log).toContain('No successful deployment to production found; using the previous tag');
    expect(none.outputs.base).toBe(good);
  });

  it('an environment the policy file does not name is refused in one line, not compared with the previous tag', async () => {
    const r = product(`${POLICY}environments:\n  staging: {}\n`);
    const { run, error } = await selectiveSettled(r, { environment: 'prod' }, { eventName: 'workflow_dispatch' });
    expect((error as Error).message).toBe(
      'input "environment": unknown environment "prod" in .github/slipway.yml (expected one of: staging)',
    );
    expect(run.outputs.changed).toBeUndefined();
  });

  it('a version JSON whose key names no component is refused before anything builds', async () => {
    const r = product();
    const { run, error } = await selectiveSettled(r, {
      all: 'true',
      run: 'true',
      version: '{"backend":"1.0.0","fronted":"1.0.0"}',
    });
    expect((error as Error).message).toBe(
      'input "version": unknown component "fronted" (expected one of: shared, postgres, schema, backend, frontend, docs)',
    );
    expect(run.outputs.changed).toBeUndefined();
  });

  it('after a manual rollback, compares with the commit that shipped the versions now running', async () => {
    const r = product();
    const first = r.commit('feat: one', { 'web/app.ts': '1\n', 'libs/shared/index.ts': '1\n' });
    const second = r.commit('feat: two', { 'web/app.ts': '2\n' });
    const third = r.commit('feat: three', { 'libs/shared/index.ts': '3\n' });
    await recordDeploy(r.dir, 'staging', first, { web: '1.0.0', api: '1.0.0' }, 'success');
    await recordDeploy(r.dir, 'staging', second, { web: '1.1.0', api: '1.1.0' }, 'success');
    await recordDeploy(r.dir, 'staging', third, { web: '1.2.0', api: '1.2.0' }, 'success');
    // The rollback ran from the newest commit, but put 1.1.0 back: what runs was built from `second`.
    await recordDeploy(r.dir, 'staging', third, { web: '1.1.0', api: '1.1.0' }, 'success', 'deploy:rollback');
    const run = await selective(r, { environment: 'staging' }, { eventName: 'workflow_dispatch' });
    expect(run.outputs.base).toBe(second);
    expect(changed(run)).toEqual(['shared', 'backend', 'frontend']);
    expect(run.log).toMatch(/rollback #4 put back web@1\.1\.0, api@1\.1\.0, shipped by deployment #2/);

    // Components rolled back to different deployments: the oldest of them, so the diff covers both.
    await recordDeploy(r.dir, 'staging', third, { web: '1.0.0' }, 'success', 'deploy:rollback');
    const mixed = await selective(r, { environment: 'staging' }, { eventName: 'workflow_dispatch' });
    expect(mixed.outputs.base).toBe(first);
  });

  it('a deployment record that cannot be read is a warning, and the previous tag is used', async () => {
    const r = product();
    const tagged = r.head();
    r.tag('v1.0.0');
    r.commit('fix: web', { 'web/app.ts': 'x\n' });
    mkdirSync(path.join(r.dir, '.slipway'), { recursive: true });
    writeFileSync(path.join(r.dir, '.slipway/deployments.json'), '{ not json');
    const run = await selective(r, { environment: 'staging' }, { eventName: 'schedule' });
    expect(run.outputs.base).toBe(tagged);
    expect(run.warnings).toHaveLength(1);
    expect(run.warnings[0]).toMatch(
      /^Could not read the deployments of staging: the ledger \.slipway\/deployments\.json: not a deployment ledger .*; using the previous tag\.$/,
    );
    expect(changed(run)).toEqual(['frontend']);
    // Nothing was read, so nothing is said to be missing from it.
    expect(run.log).not.toContain('No successful deployment');
    expect(run.log).toContain('1 file changed between');
  });

  it('schedule without an environment compares with the previous tag; with no tag it selects everything', async () => {
    const r = product();
    r.tag('v0.1.0');
    r.commit('feat: docs', { 'docs/more.md': 'x\n' });
    const tagged = await selective(r, {}, { eventName: 'schedule' });
    expect(changed(tagged)).toEqual(['docs']);
    r.git('tag', '-d', 'v0.1.0');
    const untagged = await selective(r, {}, { eventName: 'schedule' });
    expect(changed(untagged)).toEqual(['shared', 'postgres', 'docs', 'schema', 'backend', 'frontend']);
    expect(untagged.log).toContain('nothing to compare with');
    expect(untagged.outputs.base).toBe('');
  });

  it('a hotfix dispatch never takes the version it reserved on HEAD as its base: the release it patches is', async () => {
    // The probe's shape: slash tags per component series, a migrations component, a product-series web.
    const policy = [
      'components:',
      '  schema: { kind: migrations, tag: "schema-v{version}", migrate: { dir: db/migrations } }',
      '  api: { paths: [services/api/**], tag: "api/v{version}", dependsOn: [schema] }',
      '  web: { paths: [web/**], series: product }',
      '',
    ].join('\n');
    const r = product(policy);
    r.commit('feat: api', { 'services/api/main.ts': 'api\n' });
    const released = r.head();
    r.tag('v1.2.0');
    r.tag('api/v0.2.0');
    r.tag('schema-v0.2.0', 'HEAD', false);
    r.git('checkout', '-q', '-b', 'hotfix/1.2.1');
    r.commit('fix(api): timeouts', { 'services/api/main.ts': 'api 2\n' });
    const dispatch = () => selective(r, {}, { eventName: 'workflow_dispatch', ref: 'refs/heads/hotfix/1.2.1' });

    const before = await dispatch();
    expect(before.outputs.base).toBe(released);
    expect(changed(before)).toEqual(['api']);

    // The version job reserved v1.2.1 and api/v0.2.1 on HEAD (an annotated and a lightweight
    // tag) before this job listed the tags, or a "Re-run all jobs" finds them there.
    r.tag('v1.2.1');
    r.tag('api/v0.2.1', 'HEAD', false);
    const after = await dispatch();
    expect(after.outputs.base).toBe(released);
    expect(changed(after)).toEqual(['api']);
    expect(after.outputs.any).toBe('true');
    expect(after.log).toContain(
      `Base: ${released} — workflow_dispatch: the last tag of the product series, v1.2.0 (${released.slice(0, 7)}); v1.2.1 is on the head itself, never the base.`,
    );

    // Locally (the CLI: no event) nothing reserves tags: v1.2.1 on HEAD is a release already
    // made, and nothing changed since it.
    const local = await selective(r, {}, {});
    expect(local.outputs.base).toBe(r.head());
    expect(changed(local)).toEqual([]);

    // The first release reserved on HEAD: nothing before it, so everything (never nothing).
    const first = product();
    first.tag('v0.1.0');
    const untagged = await selective(first, {}, { eventName: 'workflow_dispatch' });
    expect(untagged.outputs.base).toBe('');
    expect(changed(untagged)).toHaveLength(6);
    expect(untagged.log).toContain('no v* tag before the head, nothing to compare with; v0.1.0 is on the head itself');
    expect(untagged.warnings).toEqual([]);
  });

  it('a tag push never compares with an earlier tag of its series on the same commit', async () => {
    const r = product();
    const released = r.head();
    r.commit('feat: backend', { 'services/backend/main.ts': 'v1.1\n' });
    // Two candidates of one series cut on one commit (a re-run that stepped to the next free number).
    r.tag('v1.1.0-rc.1');
    r.tag('v1.1.0-rc.2');
    r.tag('v1.0.0', released);
    const run = await selective(r, {}, { eventName: 'push', event: {}, ref: 'refs/tags/v1.1.0-rc.2' });
    expect(run.outputs.base).toBe(released);
    expect(changed(run)).toEqual(['backend', 'frontend']);
    expect(run.log).toContain('the previous tag of the series, v1.0.0');
  });

  it('base and head inputs override the event', async () => {
    const r = product();
    const a = r.head();
    r.commit('web', { 'web/app.ts': '2\n' });
    const b = r.head();
    r.commit('shared', { 'libs/shared/index.ts': '3\n' });
    const run = await selective(r, { base: a, head: b }, { eventName: 'push', event: { before: b } });
    expect(changed(run)).toEqual(['frontend']);
    expect(run.outputs.base).toBe(a);
    await expect(selective(r, { base: 'no-such-ref' })).rejects.toThrow(/^input "base": expected a commit/);
  });

  it('all: true selects everything', async () => {
    const r = product();
    const run = await selective(r, { all: 'true' });
    expect(changed(run)).toHaveLength(6);
    expect(run.summary).toContain('all: true');
  });
});

describe('shallow clones', () => {
  it('deepens until the base is present', async () => {
    const origin = product();
    const before = origin.head();
    for (let i = 0; i < 5; i++) origin.commit(`chore: ${i}`, { [`misc/${i}.txt`]: `${i}\n` });
    origin.commit('feat: web', { 'web/app.ts': 'deep\n' });
    const clone = track(cloneRepo(origin, ['--depth=1']));
    const run = await selective(clone, {}, { eventName: 'push', event: { before }, ref: 'refs/heads/main' });
    expect(run.outputs.base).toBe(before);
    expect(changed(run)).toEqual(['frontend']);
    expect(run.log).toMatch(/Shallow clone: fetched 50 more commits/);
    expect(run.warnings).toEqual([]);
  });

  it('fetches a pull request’s base that the shallow clone of the head lacks, then deepens to the merge-base', async () => {
    const origin = product();
    origin.git('checkout', '-q', '-b', 'feature/pr');
    origin.commit('feat: web', { 'web/app.ts': 'pr\n' });
    for (let i = 0; i < 3; i++) origin.commit(`chore: pr ${i}`, { [`misc/pr-${i}.txt`]: `${i}\n` });
    const prHead = origin.head();
    origin.git('checkout', '-q', 'main');
    origin.commit('feat: shared on main', { 'libs/shared/index.ts': 'main moved\n' });
    const baseSha = origin.head();
    // actions/checkout with ref: the head SHA: one commit of the branch, nothing of main.
    const clone = track(cloneRepo(origin, ['--depth=1', '--branch', 'feature/pr']));
    const run = await selective(
      clone,
      {},
      { eventName: 'pull_request', event: { pull_request: { base: { sha: baseSha }, head: { sha: prHead } } } },
    );
    expect(run.warnings).toEqual([]);
    expect(changed(run)).toEqual(['frontend']);
    expect(run.log).toContain('pull request: merge-base');
    expect(run.log).toContain(`Fetched ${baseSha}`);
  });

  it('deepens past a tag on HEAD to the last tag before it', async () => {
    const origin = product();
    origin.tag('v1.2.0');
    const released = origin.head();
    for (let i = 0; i < 60; i++) origin.commit(`chore: ${i}`, { [`misc/${i}.txt`]: `${i}\n` });
    origin.commit('fix: web', { 'web/app.ts': 'hotfix\n' });
    origin.tag('v1.2.1');
    const clone = track(cloneRepo(origin, ['--depth=1', '--no-tags']));
    const run = await selective(clone, {}, { eventName: 'workflow_dispatch' });
    expect(run.outputs.base).toBe(released);
    expect(changed(run)).toEqual(['frontend']);
    expect(run.warnings).toEqual([]);
  });

  it('selects everything with a warning when history cannot be had', async () => {
    const origin = product();
    const before = origin.head();
    origin.commit('feat: web', { 'web/app.ts': 'deep\n' });
    origin.commit('feat: web 2', { 'web/app.ts': 'deeper\n' });
    const clone = track(cloneRepo(origin, ['--depth=1']));
    clone.git('remote', 'set-url', 'origin', path.join(tmp(), 'gone'));
    const run = await selective(clone, {}, { eventName: 'push', event: { before }, ref: 'refs/heads/main' });
    expect(changed(run)).toHaveLength(6);
    expect(run.warnings.join('\n')).toMatch(/not in the fetched history.*selecting every component/);
  });
});

describe('configuration', () => {
  it('a dependsOn cycle is a located error that names the cycle', async () => {
    const r = product(
      ['components:', '  a: { paths: [a/**], dependsOn: [b] }', '  b: { paths: [b/**], dependsOn: [a] }', ''].join(
        '\n',
      ),
    );
    await expect(selective(r)).rejects.toThrow(
      /^\.github\/slipway\.yml:2:\d+: components\.a\.dependsOn: dependency cycle: a → b → a$/,
    );
  });

  it('reads paths-filter filters without a policy file, with change types', async () => {
    const r = track(createRepo());
    r.commit('init', { 'src/a.ts': '1\n', 'src/b.ts': '1\n', 'README.md': 'x\n' });
    const before = r.head();
    r.commit('change', { 'src/a.ts': '2\n', 'src/new.ts': 'n\n' });
    const filters = [
      'src: &src',
      "  - 'src/**'",
      'all-code:',
      '  - *src',
      "  - '*.json'",
      'added-only:',
      "  - added: 'src/**'",
      'deleted-only:',
      "  - deleted: 'src/**'",
      'readme: README.md',
      '',
    ].join('\n');
    const run = await selective(r, { filters }, { eventName: 'push', event: { before } });
    expect(changed(run)).toEqual(['src', 'all-code', 'added-only']);
    expect(JSON.parse(run.outputs.files)['added-only']).toEqual(['src/new.ts']);
    expect(run.outputs['deleted-only']).toBe('false');
    await expect(selective(r, { filters: 'src:\n  - changed: x\n' })).rejects.toThrow(
      /^input "filters":2:5: src\[0\]\.changed: unknown change type "changed"/,
    );
  });

  it('reads `./` globs as the same folder: paths, migrate.dir, build.inputs and filters', async () => {
    const policy = [
      'components:',
      '  web: { paths: [./web/**], build: { run: "true", inputs: ["./web/**"] } }',
      '  db: { kind: migrations, migrate: { dir: ./db/migrations/ } }',
      '',
    ].join('\n');
    const r = product(policy);
    const before = r.head();
    const run = async () => selective(r, {}, { eventName: 'push', event: { before } });
    const first = await run();
    r.commit('change', { 'web/app.ts': 'app2\n', 'db/migrations/002.sql': 'create table b();\n' });
    const second = await run();
    expect(changed(second)).toEqual(['web', 'db']);
    expect(JSON.parse(second.outputs.hashes).web).not.toBe(JSON.parse(first.outputs.hashes).web);
    const filtered = await selective(r, { filters: "web: ['./web/**']\n" }, { eventName: 'push', event: { before } });
    expect(changed(filtered)).toEqual(['web']);
  });

  it('treats a repository without policy file or filters as one component', async () => {
    const r = track(createRepo());
    r.commit('init', { 'a.txt': '1\n' });
    const before = r.head();
    r.commit('change', { 'a.txt': '2\n' });
    const run = await selective(r, {}, { eventName: 'push', event: { before } });
    expect(changed(run)).toEqual(['repository']);
  });
});

describe('building', () => {
  const BUILD_POLICY = [
    'components:',
    '  shared:',
    '    paths: [libs/shared/**]',
    '    build: { run: \'echo "$SLIPWAY_COMPONENT $SLIPWAY_VERSION $SLIPWAY_SHA" >> "$LOG"; mkdir -p out && echo shared > out/shared.txt\', outputs: [out/shared.txt] }',
    '  backend:',
    '    paths: [services/backend/**]',
    '    dependsOn: [shared]',
    '    build: { run: \'echo "$SLIPWAY_COMPONENT $SLIPWAY_VERSION $SLIPWAY_SHA" >> "$LOG"\' }',
    '  web:',
    '    paths: [web/**]',
    '    build: { run: \'echo "$SLIPWAY_COMPONENT $SLIPWAY_VERSION $SLIPWAY_SHA" >> "$LOG"\' }',
    '',
  ].join('\n');

  it('builds in dependency order with SLIPWAY_* values, then skips what the cache already has', async () => {
    const r = track(createRepo());
    r.commit('init', {
      '.github/slipway.yml': BUILD_POLICY,
      '.gitignore': 'out/\n.slipway/\n',
      'libs/shared/a.ts': '1\n',
      'services/backend/b.ts': '1\n',
      'web/w.ts': '1\n',
    });
    const cacheDir = tmp();
    const log = path.join(tmp(), 'build.log');
    const services: BuildSelectiveServices = { ...localServices, cache: (rt) => folderCache(cacheDir, rt.cwd) };
    const inputs = { all: 'true', run: 'true', cache: 'true', version: '1.2.3', parallel: '1' };

    const first = await selective(r, inputs, { services, env: { LOG: log } });
    const head = r.head();
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      `shared 1.2.3 ${head}`,
      `web 1.2.3 ${head}`,
      `backend 1.2.3 ${head}`,
    ]);
    expect(JSON.parse(first.outputs.skipped)).toEqual({});
    const hashes = JSON.parse(first.outputs.hashes) as Record<string, string>;
    expect(Object.keys(hashes).sort()).toEqual(['backend', 'shared', 'web']);

    // A new commit that touches web only: shared and backend are cache hits, web is rebuilt.
    rmSync(path.join(r.dir, 'out'), { recursive: true });
    r.commit('web', { 'web/w.ts': '2\n' });
    writeFileSync(log, '');
    const second = await selective(r, inputs, { services, env: { LOG: log } });
    const hashes2 = JSON.parse(second.outputs.hashes) as Record<string, string>;
    expect(hashes2.shared).toBe(hashes.shared);
    expect(hashes2.backend).toBe(hashes.backend);
    expect(hashes2.web).not.toBe(hashes.web);
    expect(Object.keys(JSON.parse(second.outputs.skipped)).sort()).toEqual(['backend', 'shared']);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([`web 1.2.3 ${r.head()}`]);
    // The hit restored the build's outputs.
    expect(readFileSync(path.join(r.dir, 'out/shared.txt'), 'utf8')).toBe('shared\n');
    expect(second.summary).toContain('cached, skipped');

    // The same inputs at a new version are built again: the build pushes that version's image.
    writeFileSync(log, '');
    const newVersion = await selective(r, { ...inputs, version: '1.2.4' }, { services, env: { LOG: log } });
    expect(JSON.parse(newVersion.outputs.skipped)).toEqual({});
    expect(readFileSync(log, 'utf8').trim().split('\n').sort()).toEqual(
      [`backend 1.2.4 ${r.head()}`, `shared 1.2.4 ${r.head()}`, `web 1.2.4 ${r.head()}`].sort(),
    );

    // A change to shared changes backend's hash too (it depends on shared).
    r.commit('shared', { 'libs/shared/a.ts': '2\n' });
    const third = await selective(r, { ...inputs, run: 'false' }, { services });
    const hashes3 = JSON.parse(third.outputs.hashes) as Record<string, string>;
    expect(hashes3.shared).not.toBe(hashes.shared);
    expect(hashes3.backend).not.toBe(hashes.backend);
    expect(hashes3.web).toBe(hashes2.web);
  });

  it('a failing build fails the run with its last line and does not start its dependents', async () => {
    const r = track(createRepo());
    const policy = [
      'components:',
      "  a: { paths: [a/**], build: { run: 'echo first; echo broken >&2; exit 3' } }",
      "  b: { paths: [b/**], dependsOn: [a], build: { run: 'touch built-b' } }",
      '',
    ].join('\n');
    r.commit('init', { '.github/slipway.yml': policy, 'a/x': '1\n', 'b/y': '1\n' });
    await expect(selective(r, { all: 'true', run: 'true' })).rejects.toThrow('build of a failed (exit 3): broken');
    expect(existsSync(path.join(r.dir, 'built-b'))).toBe(false);
  });

  it('runs independent builds in parallel, up to the limit', async () => {
    const r = track(createRepo());
    const dir = tmp();
    // Each build waits until the other has started: they only finish if both run at once.
    const cmd = (me: string, other: string) =>
      `touch "${dir}/${me}"; for i in $(seq 1 100); do [ -e "${dir}/${other}" ] && exit 0; sleep 0.05; done; exit 1`;
    const policy = [
      'components:',
      `  a: { paths: [a/**], build: { run: '${cmd('a', 'b')}' } }`,
      `  b: { paths: [b/**], build: { run: '${cmd('b', 'a')}' } }`,
      '',
    ].join('\n');
    r.commit('init', { '.github/slipway.yml': policy, 'a/x': '1\n', 'b/y': '1\n' });
    const run = await selective(r, { all: 'true', run: 'true', parallel: '2' });
    expect(run.log).toContain('a: built in');
    expect(run.log).toContain('b: built in');
  });

  it('dry-run selects and hashes but builds nothing', async () => {
    const r = track(createRepo());
    r.commit('init', {
      '.github/slipway.yml': "components:\n  a: { paths: [a/**], build: { run: 'touch built' } }\n",
      'a/x': '1\n',
    });
    const run = await selective(r, { all: 'true', run: 'true', 'dry-run': 'true' });
    expect(changed(run)).toEqual(['a']);
    expect(existsSync(path.join(r.dir, 'built'))).toBe(false);
    expect(run.log).toContain('Dry run: would build a');
  });

  it('dry-run says "would build" only for components with a build command, and names the others', async () => {
    const r = track(createRepo());
    r.commit('init', {
      '.github/slipway.yml': [
        'components:',
        "  api: { paths: [api/**], build: { run: 'touch built-api' } }",
        '  db: { paths: [db/**], kind: data }',
        "  web: { paths: [web/**], dependsOn: [api], build: { run: 'touch built-web' } }",
        '',
      ].join('\n'),
      'api/x': '1\n',
      'db/x': '1\n',
      'web/x': '1\n',
    });
    const run = await selective(r, { all: 'true', run: 'true', 'dry-run': 'true' });
    expect(changed(run).sort()).toEqual(['api', 'db', 'web']);
    expect(run.log).toContain('Dry run: would build api, web; db has no build command.');
    expect(run.summary).toMatch(/^\| api \|.*\| would build \|$/m);
    expect(run.summary).toMatch(/^\| web \|.*\| would build \|$/m);
    expect(run.summary).toMatch(/^\| db \|.*\| no build command \|$/m);
    expect(existsSync(path.join(r.dir, 'built-api'))).toBe(false);

    // Nothing to build at all: said so, and each one named.
    const none = track(createRepo());
    none.commit('init', {
      '.github/slipway.yml': 'components:\n  db: { paths: [db/**] }\n  cache: { paths: [cache/**] }\n',
      'db/x': '1\n',
      'cache/x': '1\n',
    });
    const nothing = await selective(none, { all: 'true', run: 'true', 'dry-run': 'true' });
    expect(nothing.log).toMatch(/Dry run: would build nothing; (db, cache|cache, db) have no build command\./);
    expect(nothing.summary).not.toContain('would build');
  });
});

describe('a push that changes only the policy file', () => {
  const push = (r: TestRepo, before: string) =>
    selective(r, {}, { eventName: 'push', event: { before, after: r.head() }, ref: 'refs/heads/main' });

  it('selects a new component and one whose build, deploy or paths changed, with their dependents', async () => {
    const r = product();
    const before = r.head();
    const policy = POLICY.replace(
      '  shared: { paths: [libs/shared/**] }',
      '  shared: { paths: [libs/shared/**], build: { run: make shared } }',
    )
      .replace(
        '  docs: { paths: [docs/**, "**/*.md"] }',
        '  docs: { paths: [docs/**, "**/*.md"], deploy: { run: ./publish } }',
      )
      .concat('  worker: { paths: [worker/**] }\n');
    r.commit('chore: policy', { '.github/slipway.yml': policy });
    const run = await push(r, before);
    expect(changed(run).sort()).toEqual(['backend', 'docs', 'frontend', 'shared', 'worker']);
    expect(JSON.parse(run.outputs.files)).toMatchObject({ shared: [], worker: [] });
    expect(run.log).toContain('shared: its build in .github/slipway.yml changed.');
    expect(run.log).toContain('docs: its deploy in .github/slipway.yml changed.');
    expect(run.log).toContain('worker: new in .github/slipway.yml.');
    expect(run.log).toContain('backend: depends on shared.');

    const paths = r.head();
    r.commit('chore: web paths', {
      '.github/slipway.yml': policy.replace('paths: [web/**]', 'paths: [web/**, ui/**]'),
    });
    expect(changed(await push(r, paths))).toEqual(['frontend']);
  });

  it('compares parsed values: comments, reordering and other keys of an entry select nothing', async () => {
    const r = product();
    const before = r.head();
    const reordered = [
      '# the product',
      'components:',
      '  docs: { paths: [docs/**, "**/*.md"] }   # moved up',
      '  shared:',
      '    paths: [libs/shared/**]',
      '  postgres: { kind: data }',
      '  schema: { migrate: { dir: db/migrations }, dependsOn: [postgres], kind: migrations }',
      '  backend:',
      '    dependsOn: [shared, schema]',
      '    paths: [services/backend/**, "!services/backend/**/*.md"]',
      '    health: [ { http: "http://127.0.0.1:9/h" } ]',
      '  frontend: { paths: [web/**], dependsOn: [backend] }',
      '',
    ].join('\n');
    r.commit('chore: tidy policy', { '.github/slipway.yml': reordered });
    const run = await push(r, before);
    expect(changed(run)).toEqual([]);
  });

  it('selects nothing for a change to the shared keys (environments, versioning, notify), and says so', async () => {
    const r = product();
    const before = r.head();
    r.commit('chore: environments', {
      '.github/slipway.yml': `${POLICY}environments:\n  staging: {}\nversioning: { tag: "release-{version}" }\n`,
    });
    const run = await push(r, before);
    expect(changed(run)).toEqual([]);
    expect(run.log).toContain('.github/slipway.yml: versioning, environments changed; that selects no component');
  });

  it('takes every component as new when the base has no policy file, and as changed when it cannot be read', async () => {
    const r = track(createRepo());
    r.commit('init', { 'web/a.ts': '1\n', 'api/b.ts': '1\n' });
    const none = r.head();
    const policy = 'components:\n  web: { paths: [web/**] }\n  api: { paths: [api/**] }\n';
    r.commit('chore: policy', { '.github/slipway.yml': policy });
    const added = await push(r, none);
    expect(changed(added).sort()).toEqual(['api', 'web']);
    expect(added.log).toContain('web: new in .github/slipway.yml.');

    r.commit('chore: broken policy', { '.github/slipway.yml': 'components: [\n' });
    const broken = r.head();
    r.commit('chore: fixed policy', { '.github/slipway.yml': policy });
    const fixed = await push(r, broken);
    expect(changed(fixed).sort()).toEqual(['api', 'web']);
    expect(fixed.log).toMatch(/\.github\/slipway\.yml at the base [0-9a-f]{7} cannot be read \(.*invalid YAML/);

    // A policy file kept beside the checkout, never committed, has no history: only files select.
    const u = track(createRepo());
    u.commit('init', { 'web/a.ts': '1\n', 'api/b.ts': '1\n' });
    const start = u.head();
    mkdirSync(path.join(u.dir, '.github'));
    writeFileSync(path.join(u.dir, '.github/slipway.yml'), policy);
    u.commit('fix(api): b', { 'api/b.ts': '2\n' });
    expect(changed(await push(u, start))).toEqual(['api']);
  });
});

describe('reporting', () => {
  it('names a missing filters file as missing, in one line', async () => {
    const r = track(createRepo());
    r.commit('init', { 'src/a.ts': '1\n', 'ci/filters.yml': "src: ['src/**']\n" });
    await expect(selective(r, { filters: 'ci/missing.yml', all: 'true' })).rejects.toThrow(
      /^input "filters": file ci\/missing\.yml not found \(expected [^\n]*\)$/,
    );
    // A file that is there is read, as before.
    expect(changed(await selective(r, { filters: 'ci/filters.yml', all: 'true' }))).toEqual(['src']);
  });

  it('keeps a changed file named with a backtick inside one code span of the summary', async () => {
    const r = track(createRepo());
    r.commit('init', { '.github/slipway.yml': 'components:\n  web: { paths: [web/**] }\n', 'web/a.ts': '1\n' });
    const before = r.head();
    const name = 'web/it`s ``odd``.ts';
    r.commit('feat: odd name', { [name]: '1\n' });
    const run = await selective(r, {}, { eventName: 'push', event: { before } });
    const row = run.summary.split('\n').find((l) => l.startsWith('| web |'))!;
    const reasonCell = row.split(' | ')[1];
    expect(codeSpans(reasonCell)).toEqual([name]);
  });

  it('without a token, says what build-selective cannot read, not what deploy writes', async () => {
    const r = product();
    r.tag('v1.0.0');
    r.commit('fix: web', { 'web/app.ts': 'x\n' });
    const run = await selective(
      r,
      { environment: 'staging' },
      { eventName: 'workflow_dispatch', env: { GITHUB_ACTIONS: 'true' } },
    );
    expect(run.warnings).toHaveLength(1);
    expect(run.warnings[0]).toMatch(/^No token: the last deployment to staging is not read from GitHub Deployments/);
    expect(run.warnings[0]).toContain('deployments: read');
    // Deploy's wording is about where it records, its lock and rollbacks: nothing a read does.
    expect(run.warnings[0]).not.toMatch(/recorded|lock|roll back/);
    expect(changed(run)).toEqual(['frontend']);
  });
});

/** The contents of the code spans in one line of Markdown, by CommonMark's rule (a run of n backticks closes at the next run of exactly n). */
function codeSpans(line: string): string[] {
  const runs = [...line.matchAll(/`+/g)].map((m) => ({ at: m.index, n: m[0].length }));
  const out: string[] = [];
  for (let i = 0; i < runs.length; i++) {
    const close = runs.findIndex((x, j) => j > i && x.n === runs[i].n);
    if (close < 0) continue;
    let text = line.slice(runs[i].at + runs[i].n, runs[close].at);
    if (text.startsWith(' ') && text.endsWith(' ') && text.trim()) text = text.slice(1, -1);
    out.push(text);
    i = close;
  }
  return out;
}

describe('building: what a run leaves and says', () => {
  const TWO = [
    'components:',
    "  a: { paths: [a/**], build: { run: 'echo a > a.out', outputs: [a.out] } }",
    "  b: { paths: [b/**], build: { run: 'echo broken >&2; exit 4' } }",
    '',
  ].join('\n');

  it('sets skipped, and writes the summary, before reporting a failed build', async () => {
    const r = track(createRepo());
    r.commit('init', { '.github/slipway.yml': TWO, '.gitignore': 'a.out\n', 'a/x': '1\n', 'b/y': '1\n' });
    const cacheDir = tmp();
    const services: BuildSelectiveServices = { ...localServices, cache: (rt) => folderCache(cacheDir, rt.cwd) };
    const inputs = { all: 'true', run: 'true', cache: 'true', parallel: '1' };
    const first = await selectiveSettled(r, inputs, { services });
    expect(String(first.error)).toContain('build of b failed (exit 4): broken');
    expect(JSON.parse(first.run.outputs.skipped)).toEqual({});

    const second = await selectiveSettled(r, inputs, { services });
    expect(String(second.error)).toContain('build of b failed (exit 4): broken');
    const hashes = JSON.parse(second.run.outputs.hashes) as Record<string, string>;
    expect(JSON.parse(second.run.outputs.skipped)).toEqual({
      a: { hash: hashes.a, key: `slipway-build-a-${hashes.a}` },
    });
    expect(second.run.summary).toMatch(/\| a \|.*\| cached, skipped \|/);
    expect(second.run.summary).toMatch(/\| b \|.*\| failed \|/);
  });

  it('says once per run that the cache is not available, however many components look it up', async () => {
    const r = track(createRepo());
    const policy = [
      'components:',
      ...['a', 'b', 'c'].map((n) => `  ${n}: { paths: [${n}/**], build: { run: "true" } }`),
    ];
    r.commit('init', { '.github/slipway.yml': `${policy.join('\n')}\n`, 'a/x': '1\n', 'b/x': '1\n', 'c/x': '1\n' });
    let lookups = 0;
    // As the runner's adapter does: every lookup of an unavailable service warns.
    const services: BuildSelectiveServices = {
      ...localServices,
      cache: (rt) => ({
        async restore() {
          lookups++;
          rt.log.warning('The GitHub cache service is not available to this run; building without the cache.');
          return false;
        },
        async save() {},
      }),
    };
    const run = await selective(r, { all: 'true', run: 'true', cache: 'true' }, { services });
    expect(lookups).toBe(3);
    expect(run.warnings.filter((w) => w.includes('not available'))).toHaveLength(1);
  });

  it('gives the folders it creates in the repository a .gitignore, so `git add -A` commits none of it', async () => {
    const r = track(createRepo());
    r.commit('init', {
      '.github/slipway.yml': TWO.replace("'echo broken >&2; exit 4'", "'true'"),
      '.gitignore': 'a.out\n',
      'a/x': '1\n',
      'b/y': '1\n',
    });
    const inputs = { all: 'true', run: 'true', cache: 'true' };
    const untracked = () => r.git('status', '--porcelain', '--untracked-files=all');
    await selective(r, inputs);
    expect(existsSync(path.join(r.dir, '.slipway/builds/a.json'))).toBe(true);
    expect(existsSync(path.join(r.dir, '.slipway/cache'))).toBe(true);
    expect(untracked()).toBe('');

    // A cache hit restores the markers into a fresh folder: it is ignored too.
    rmSync(path.join(r.dir, '.slipway/builds'), { recursive: true });
    const hit = await selective(r, inputs);
    expect(Object.keys(JSON.parse(hit.outputs.skipped)).sort()).toEqual(['a', 'b']);
    expect(existsSync(path.join(r.dir, '.slipway/builds/a.json'))).toBe(true);
    expect(untracked()).toBe('');
    r.git('add', '-A');
    expect(r.git('diff', '--cached', '--name-only')).toBe('');
  });
});
