import { afterEach, describe, expect, it } from '@jest/globals';
import { createRepo, type TestRepo } from '../helpers/git-repo.js';
import { errorLines, runBundledAction, runnerCommands } from '../helpers/run-action.js';

const repos: TestRepo[] = [];
afterEach(() => {
  while (repos.length) repos.pop()!.cleanup();
});

describe('the bundled build-selective action', () => {
  it('selects on a push as a runner runs it: outputs, one output per component, and the summary', async () => {
    const r = createRepo();
    repos.push(r);
    r.commit('init', {
      '.github/slipway.yml': [
        'components:',
        '  shared: { paths: [libs/**] }',
        '  api: { paths: [api/**], dependsOn: [shared], build: { run: \'echo "building $SLIPWAY_COMPONENT"\' } }',
        '  web: { paths: [web/**] }',
        '',
      ].join('\n'),
      'libs/a.ts': '1\n',
      'api/b.ts': '1\n',
      'web/c.ts': '1\n',
    });
    const before = r.head();
    r.commit('fix: lib', { 'libs/a.ts': '2\n' });
    const run = await runBundledAction('build-selective', {
      cwd: r.dir,
      inputs: { run: 'true', version: '1.0.0' },
      eventName: 'push',
      event: { before, after: r.head() },
      env: { GITHUB_REF: 'refs/heads/main' },
    });
    expect(errorLines(run)).toEqual([]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.outputs.changed)).toEqual(['shared', 'api']);
    expect(run.outputs.shared).toBe('true');
    expect(run.outputs.api).toBe('true');
    expect(run.outputs.web).toBe('false');
    expect(run.outputs.base).toBe(before);
    expect(run.stdout).toContain('::group::Build api');
    expect(run.stdout).toContain('building api');
    expect(run.summary).toContain('depends on shared');
    expect(run.summary).toContain('```mermaid');
  });

  it('a file name that holds a workflow command issues none: the log shows it escaped, on one line', async () => {
    const r = createRepo();
    repos.push(r);
    r.commit('init', {
      '.github/slipway.yml': 'components:\n  ui: { paths: [packages/ui/**] }\n',
      'packages/ui/a.ts': '1\n',
    });
    const before = r.head();
    // A pull request's author chooses its file names.
    r.commit('feat: x', { 'packages/ui/a\n::error title=injected::from a file name.ts': 'x\n' });
    const run = await runBundledAction('build-selective', {
      cwd: r.dir,
      eventName: 'push',
      event: { before, after: r.head() },
      env: { GITHUB_REF: 'refs/heads/main' },
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.outputs.changed)).toEqual(['ui']);
    expect(runnerCommands(run.stdout).filter((c) => c.includes('injected'))).toEqual([]);
    expect(run.stdout).toContain('ui: `packages/ui/a\\n::error title=injected::from a file name.ts` changed.');
    expect(run.summary).toContain('`packages/ui/a\\n::error title=injected::from a file name.ts`');
  });

  it('selects workspace packages as components (workspaces: true), dependents included', async () => {
    const r = createRepo();
    repos.push(r);
    const manifest = (name: string, dependencies: Record<string, string> = {}) =>
      JSON.stringify({ name, version: '1.0.0', dependencies });
    r.commit('init', {
      '.github/slipway.yml': 'workspaces: true\n',
      'package.json': JSON.stringify({ name: 'root', private: true, workspaces: ['packages/*', 'apps/*'] }),
      'packages/ui/package.json': manifest('@acme/ui'),
      'packages/ui/index.ts': '1\n',
      'apps/web/package.json': manifest('web', { '@acme/ui': '*' }),
      'apps/docs/package.json': manifest('docs'),
    });
    const before = r.head();
    r.commit('fix: ui', { 'packages/ui/index.ts': '2\n' });
    const run = await runBundledAction('build-selective', {
      cwd: r.dir,
      eventName: 'push',
      event: { before, after: r.head() },
      env: { GITHUB_REF: 'refs/heads/main' },
    });
    expect(errorLines(run)).toEqual([]);
    expect(JSON.parse(run.outputs.changed)).toEqual(['acme-ui', 'web']);
    expect(run.outputs.docs).toBe('false');
  });

  it('fails with one located line for a dependsOn cycle', async () => {
    const r = createRepo();
    repos.push(r);
    r.commit('init', {
      '.github/slipway.yml': 'components:\n  a: { paths: [a/**], dependsOn: [b] }\n  b: { dependsOn: [a] }\n',
    });
    const run = await runBundledAction('build-selective', { cwd: r.dir, eventName: 'schedule' });
    expect(run.code).toBe(1);
    const errors = errorLines(run);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^::error file=\.github\/slipway\.yml,line=2,.*dependency cycle: a → b → a$/);
  });
});
