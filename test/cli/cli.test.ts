import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createRepo } from '../helpers/git-repo.js';
import { ROOT } from '../helpers/run-action.js';

const repo = createRepo();
afterAll(() => repo.cleanup());
repo.commit('feat: first');
repo.tag('v1.0.0');
repo.commit('fix: second');

function slipway(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/slipway.js'), ...args], {
    cwd: repo.dir,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', GITHUB_REF: '', GITHUB_HEAD_REF: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the slipway CLI', () => {
  it('runs an action with the same code and prints its outputs as JSON', () => {
    const r = slipway('version-bump', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.version).toBe('1.0.1');
    expect(out.release).toBe('true');
    expect(out.components).toEqual({});
    expect(r.stderr).toContain('repository: 1.0.0 → 1.0.1');
  });

  it('prints readable outputs without --json and takes inputs as flags', () => {
    const r = slipway('version-bump', '--bump', 'major', '--branch=main');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^version: 2\.0\.0$/m);
    expect(r.stdout).not.toContain('\x1b[');
  });

  it('names the flags it expects for an unknown one, in one line', () => {
    const r = slipway('version-bump', '--bmp', 'major');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'error: unknown flag --bmp for version-bump (expected one of: --config, --dry-run, --component, --branch, --bump, --prerelease, --tag-prefix, --initial-version)',
    );
  });

  it('validates inputs like the action does', () => {
    const r = slipway('version-bump', '--bump', 'huge');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('input "bump": expected one of auto, major, minor, patch, none, got "huge"');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('has --help for itself and for every command', () => {
    const top = slipway('--help');
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('version-bump');
    const one = slipway('version-bump', '--help');
    expect(one.stdout).toContain('--initial-version');
    expect(slipway('nonsense').stderr).toMatch(/unknown command "nonsense" \(expected one of: version-bump/);
  });
});

describe('slipway deploy and status from a terminal', () => {
  const app = createRepo();
  afterAll(() => app.cleanup());
  app.commit('feat: app', {
    '.github/slipway.yml':
      'components:\n  api: { paths: [api/**], deploy: { run: "echo deploying $SLIPWAY_COMPONENT $SLIPWAY_VERSION" } }\nenvironments:\n  production: {}\n',
  });

  function run(...args: string[]) {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/slipway.js'), ...args], {
      cwd: app.dir,
      encoding: 'utf8',
      env: { ...process.env, CI: 'true', GITHUB_TOKEN: '' },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('records local deploys in the ledger and shows what runs where', () => {
    expect(run('deploy', '--environment', 'production', '--version', '1.2.0').code).toBe(0);
    const deployed = run('deploy', '--environment', 'production', '--version', '1.3.0', '--json');
    expect(deployed.code).toBe(0);
    expect(JSON.parse(deployed.stdout).deployed).toEqual({ api: '1.3.0' });
    const status = run('status', '--environment', 'production', '--json');
    expect(status.code).toBe(0);
    const rows = JSON.parse(status.stdout).components;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ component: 'api', version: '1.3.0', sha: app.head().slice(0, 7), task: 'deploy' });
    expect(run('status').stderr).toContain('--environment is required');
  });
});

describe('slipway plan', () => {
  const app = createRepo();
  afterAll(() => app.cleanup());
  app.commit('feat: api', {
    '.github/slipway.yml': [
      'components:',
      '  schema: { kind: migrations, migrate: { dir: db } }',
      '  api: { paths: [api/**], dependsOn: [schema], deploy: { run: "touch deployed-$SLIPWAY_VERSION" }, health: [ { http: "http://127.0.0.1:9/h" } ] }',
      'environments:',
      '  staging: {}',
      '  production: { after: staging }',
      '',
    ].join('\n'),
    'db/001_drop.sql': 'ALTER TABLE orders DROP COLUMN note;\n',
    'api/a.txt': 'a',
  });

  it('prints the version, selection, migrations and their lint, the waves and the checks, running nothing', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/slipway.js'), 'plan'], {
      cwd: app.dir,
      encoding: 'utf8',
      env: { ...process.env, CI: 'true' },
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('version: (none) → 0.1.0');
    expect(r.stdout).toContain('build: schema, api');
    expect(r.stdout).toMatch(/migrations schema: 1 pending; lint: db\/001_drop\.sql:1 drop-column/);
    expect(r.stdout).toContain('deploy staging: wave 1: schema (none) → 0.1.0; wave 2: api (none) → 0.1.0');
    expect(r.stdout).toContain('deploy production: wave 1');
    expect(r.stdout).toContain('release: v0.1.0 (dry run: would be created)');
    expect(r.stderr).toContain('http api: http://127.0.0.1:9/h');
    expect(app.git('tag', '--list').trim()).toBe('');
    expect(
      app
        .git('status', '--porcelain', '--untracked-files=all')
        .split('\n')
        .filter((l) => l.includes('deployed-')),
    ).toEqual([]);
    const bad = spawnSync(process.execPath, [path.join(ROOT, 'bin/slipway.js'), 'plan', '--event', 'merge'], {
      cwd: app.dir,
      encoding: 'utf8',
    });
    expect(bad.stderr).toContain('--event: expected one of push, release, hotfix, rollback, got "merge"');
  });
});
