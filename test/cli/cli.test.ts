import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createRepo } from '../helpers/git-repo.js';
import { ROOT } from '../helpers/run-action.js';
import { ACTIONS } from '../../src/registry.js';

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

  it('a reader that closed the pipe (slipway … | head) ends no run half-way and prints no stack', async () => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/slipway.js'), 'version-bump', '--branch=main'], {
      cwd: repo.dir,
      env: { ...process.env, CI: 'true', GITHUB_REF: '', GITHUB_HEAD_REF: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Closed before the first output line: every write to stdout meets EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toContain('repository: 1.0.0 → 1.0.1');
    expect(stderr).not.toMatch(/EPIPE|Unhandled|\n\s+at /);
    expect(code).toBe(0);
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
      'error: unknown flag --bmp for version-bump (expected one of: --config, --dry-run, --component, --branch, --bump, --prerelease, --tag-prefix, --initial-version, --promote)',
    );
  });

  it.each([
    [
      'status',
      ['--enviroment', 'production'],
      'unknown flag --enviroment for status (expected one of: --environment, --config)',
    ],
    [
      'status',
      ['--environment', 'production', '--foo'],
      'unknown flag --foo for status (expected one of: --environment, --config)',
    ],
    [
      'unlock',
      ['--environment', 'production', '--force'],
      'unknown flag --force for unlock (expected one of: --environment, --token, --config)',
    ],
    [
      'plan',
      ['--evnt', 'push'],
      'unknown flag --evnt for plan (expected one of: --event, --branch, --environment, --to-version, --config)',
    ],
    [
      'restore',
      ['x.dump', '--database', 'DB'],
      'unknown flag --database for restore (expected one of: --database-env)',
    ],
    [
      'demo',
      ['--fast'],
      'unknown flag --fast for demo (it takes only the global flags --json, --cwd, --verbose, --quiet, --help)',
    ],
  ])('%s refuses an unknown flag in one line naming its flags, running nothing', (name, args, expected) => {
    const r = slipway(name, ...args);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`error: ${expected}`);
    expect(r.stdout).toBe('');
  });

  it('validates inputs like the action does', () => {
    const r = slipway('version-bump', '--bump', 'huge');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('input "bump": expected one of auto, major, minor, patch, none, got "huge"');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('names a lint finding’s file and line once', () => {
    const db = createRepo();
    try {
      db.commit('feat: schema', { 'db/001_drop.sql': 'ALTER TABLE orders DROP COLUMN note;\n' });
      const r = spawnSync(
        process.execPath,
        [path.join(ROOT, 'bin/slipway.js'), 'migrate', '--dir', 'db', '--dry-run'],
        {
          cwd: db.dir,
          encoding: 'utf8',
          env: { ...process.env, CI: 'true' },
        },
      );
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/^warning: db\/001_drop\.sql:1: DROP COLUMN orders\.note: /m);
      expect(r.stderr).not.toContain('db/001_drop.sql:1: db/001_drop.sql:1:');
    } finally {
      db.cleanup();
    }
  }, 60_000);

  it('has --help for itself, and names every command', () => {
    const top = slipway('--help');
    expect(top.code).toBe(0);
    for (const name of [...ACTIONS.map((a) => a.name), 'plan', 'status', 'unlock', 'demo'])
      expect(top.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    expect(slipway('nonsense').stderr).toMatch(/unknown command "nonsense" \(expected one of: version-bump/);
  });

  it.each(ACTIONS.map((a) => a.name))('%s --help lists every input and output, running nothing', (name) => {
    const action = ACTIONS.find((a) => a.name === name)!;
    const r = slipway(name, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: slipway ${name} `));
    for (const input of Object.keys(action.inputs)) expect(r.stdout).toMatch(new RegExp(`^  --${input} `, 'm'));
    for (const output of Object.keys(action.outputs)) expect(r.stdout).toMatch(new RegExp(`^  ${output} `, 'm'));
    // Defaults as a person types them: a runner expression means nothing in a terminal.
    expect(r.stdout).not.toContain('${{');
    if ('token' in action.inputs) expect(r.stdout).toContain("(default: none (on a runner: the job's GITHUB_TOKEN))");
    expect(r.stderr).toBe('');
  });

  it.each([
    ['plan', /--event push\|release\|hotfix\|rollback/],
    ['status', /--environment/],
    ['unlock', /queued or in-progress deployment/],
    ['demo', /temporary folder/],
  ])('%s --help prints its usage, running nothing', (name, expected) => {
    const r = slipway(name, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: slipway ${name}`));
    expect(r.stdout).toMatch(expected);
    expect(r.stderr).toBe('');
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

  it('prints the outputs as JSON when the action fails, and exits 1 with a one-line cause', () => {
    const failing = createRepo();
    try {
      failing.commit('feat: app', {
        '.github/slipway.yml':
          'components:\n  api: { deploy: { run: "echo up $SLIPWAY_VERSION; test $SLIPWAY_VERSION != 2.0.0" } }\nenvironments:\n  production: {}\n',
      });
      const opts = {
        cwd: failing.dir,
        encoding: 'utf8' as const,
        env: { ...process.env, CI: 'true', GITHUB_TOKEN: '' },
      };
      const bin = path.join(ROOT, 'bin/slipway.js');
      expect(
        spawnSync(process.execPath, [bin, 'deploy', '--environment', 'production', '--version', '1.0.0'], opts).status,
      ).toBe(0);
      const r = spawnSync(
        process.execPath,
        [bin, 'deploy', '--environment', 'production', '--version', '2.0.0', '--timeout', '1', '--json'],
        opts,
      );
      expect(r.status).toBe(1);
      const out = JSON.parse(r.stdout);
      expect(out.status).toBe('rolled-back');
      expect(out.deployed).toEqual({ api: '1.0.0' });
      expect(out['previous-version']).toBe('1.0.0');
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^error: deploy to production failed at api 2\.0\.0: .*rolled back/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      failing.cleanup();
    }
  });
});

describe('slipway plan', () => {
  const app = createRepo();
  afterAll(() => app.cleanup());
  app.commit('feat: api', {
    '.github/slipway.yml': [
      'components:',
      // A reviewed drop (allowDestructive): linted and shown, not a stop (plan.test.ts has the stop).
      '  schema: { kind: migrations, migrate: { dir: db, allowDestructive: true } }',
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
    expect(r.stdout).toContain('build: schema, api — everything selected (no earlier state to compare with)');
    expect(r.stdout).toContain(
      'smoke-test staging: would run 1 check(s): http api: http://127.0.0.1:9/h (dry run: nothing contacted)',
    );
    expect(r.stdout).toMatch(/migrations schema: 1 pending; lint: db\/001_drop\.sql:1 drop-column/);
    expect(r.stdout).toContain('deploy staging: wave 1: schema (none) → 0.1.0; wave 2: api (none) → 0.1.0');
    expect(r.stdout).toContain('deploy production: wave 1');
    expect(r.stdout).toContain('release: v0.1.0 (dry run: would be created)');
    expect(r.stderr).toContain('http api: http://127.0.0.1:9/h');
    // What each deploy step would run, as its target describes it.
    expect(r.stderr).toContain('api run: touch deployed-$SLIPWAY_VERSION');
    expect(r.stderr).toContain(
      'Migration history: DATABASE_URL is not set and there is no embedded database in .slipway/db: nothing applied yet (no database opened).',
    );
    expect(app.git('status', '--porcelain', '--ignored', '--untracked-files=all')).toBe('');
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

  const plan = (dir: string, ...args: string[]) =>
    spawnSync(process.execPath, [path.join(ROOT, 'bin/slipway.js'), 'plan', ...args], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, CI: 'true', GITHUB_REF: '', GITHUB_HEAD_REF: '' },
    });

  it('--event release: the next release candidate, staged only', () => {
    const r = plan(app.dir, '--event', 'release', '--branch', 'release/1.0');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('version: (none) → 1.0.0-rc.1');
    // release/1.0 names the product's version; schema and api have series of their own, with no release yet.
    expect(r.stdout).toContain('deploy staging: wave 1: schema (none) → 0.1.0-rc.1; wave 2: api (none) → 0.1.0-rc.1');
    expect(r.stdout).toContain('components: schema-v0.1.0-rc.1, api-v0.1.0-rc.1');
    expect(r.stdout).not.toContain('deploy production');
    expect(r.stdout).toContain('release: v1.0.0-rc.1 (dry run: would be created)');
    expect(app.git('status', '--porcelain', '--ignored', '--untracked-files=all')).toBe('');
  });

  it('--event hotfix: a patch release through staging then production', () => {
    const hotfix = createRepo();
    try {
      hotfix.commit('feat: api', {
        '.github/slipway.yml':
          'components:\n  shared: { paths: [lib/**] }\n  api: { paths: [api/**], dependsOn: [shared], deploy: { run: "true" } }\nenvironments:\n  staging: {}\n  production: { after: staging }\n',
      });
      hotfix.tag('v1.4.0');
      hotfix.commit('feat: a feature, released as a patch from a hotfix branch', { 'lib/x.txt': 'x' });
      const r = plan(hotfix.dir, '--event', 'hotfix', '--branch', 'hotfix/urgent');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('version: 1.4.0 → 1.4.1 (patch)');
      expect(r.stdout).toContain('build: shared, api — shared: lib/x.txt changed; api: depends on shared');
      expect(r.stdout.indexOf('deploy staging: wave 1: api (none) → 1.4.1')).toBeGreaterThan(-1);
      expect(r.stdout.indexOf('deploy production: wave 1: api (none) → 1.4.1')).toBeGreaterThan(
        r.stdout.indexOf('smoke-test staging'),
      );
      expect(r.stdout).toContain('release: v1.4.1 (dry run: would be created)');
      expect(hotfix.git('status', '--porcelain', '--ignored', '--untracked-files=all')).toBe('');
    } finally {
      hotfix.cleanup();
    }
  });

  it('--event rollback: deploy’s manual rollback, previewed from the ledger without touching it', () => {
    const rb = createRepo();
    try {
      rb.commit('feat: api', {
        '.github/slipway.yml': 'components:\n  api: { deploy: { run: "true" } }\nenvironments:\n  production: {}\n',
      });
      const bin = path.join(ROOT, 'bin/slipway.js');
      for (const version of ['1.0.0', '1.1.0', '1.2.0'])
        expect(
          spawnSync(process.execPath, [bin, 'deploy', '--environment', 'production', '--version', version], {
            cwd: rb.dir,
            env: { ...process.env, CI: 'true', GITHUB_TOKEN: '' },
          }).status,
        ).toBe(0);
      const before = rb.git('status', '--porcelain', '--ignored', '--untracked-files=all');
      const ledger = readFileSync(path.join(rb.dir, '.slipway/deployments.json'), 'utf8');
      const last = plan(rb.dir, '--event', 'rollback');
      expect(last.status).toBe(0);
      expect(last.stdout).toContain('rollback production: wave 1: api 1.2.0 → 1.1.0');
      const to = plan(rb.dir, '--event', 'rollback', '--to-version', '1.0.0', '--json');
      expect(to.status).toBe(0);
      expect(JSON.parse(to.stdout).steps[0]).toEqual({
        step: 'rollback production',
        result: 'ok',
        detail: 'wave 1: api 1.2.0 → 1.0.0',
      });
      expect(rb.git('status', '--porcelain', '--ignored', '--untracked-files=all')).toBe(before);
      expect(readFileSync(path.join(rb.dir, '.slipway/deployments.json'), 'utf8')).toBe(ledger);
    } finally {
      rb.cleanup();
    }
  });

  it('reads the migration history from a copy of the embedded database, leaving it untouched', () => {
    const db = createRepo();
    try {
      db.commit('feat: schema', {
        '.github/slipway.yml':
          'components:\n  schema: { kind: migrations, migrate: { dir: db, allowDestructive: true } }\nenvironments:\n  local: {}\n',
        '.gitignore': '.slipway/\n',
        'db/001_create.sql': 'CREATE TABLE orders (id int, note text);\n',
      });
      const bin = path.join(ROOT, 'bin/slipway.js');
      const env = { ...process.env, CI: 'true' };
      expect(spawnSync(process.execPath, [bin, 'migrate'], { cwd: db.dir, env }).status).toBe(0);
      db.commit('feat: drop the note', { 'db/002_drop.sql': 'ALTER TABLE orders DROP COLUMN note;\n' });
      const snapshot = () =>
        readdirSync(path.join(db.dir, '.slipway/db'), { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile())
          .map((e) => {
            const f = path.join(e.parentPath, e.name);
            return `${f} ${statSync(f).size} ${statSync(f).mtimeMs}`;
          })
          .sort();
      const before = snapshot();
      const r = plan(db.dir);
      expect(r.status).toBe(0);
      expect(r.stderr).toContain('Migration history: read from a copy of the embedded database in .slipway/db.');
      expect(r.stdout).toMatch(/migrations schema: 1 pending; lint: db\/002_drop\.sql:1 drop-column/);
      expect(snapshot()).toEqual(before);
    } finally {
      db.cleanup();
    }
  }, 60_000);
});

describe('the slipway command starts from its bundle', () => {
  it('bin/slipway.js loads dist/cli, and tsx is not a runtime dependency', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.dependencies.tsx).toBeUndefined();
    expect(pkg.devDependencies.tsx).toBeDefined();
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/slipway.js'), '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: slipway <command>');
    expect(readFileSync(path.join(ROOT, 'bin/slipway.js'), 'utf8')).not.toMatch(/tsx/);
  });
});
