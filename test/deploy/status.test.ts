/** `slipway status`: what runs where, when, from which commit and who deployed it, from the ledger. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { FileLedger } from '../../src/deploy/record/file-ledger.js';
import { createRepo } from '../helpers/git-repo.js';
import { ROOT } from '../helpers/run-action.js';

const app = createRepo();
afterAll(() => app.cleanup());
app.commit('feat: app', {
  '.github/slipway.yml':
    'components:\n  api: { deploy: { run: "true" } }\n  web: { dependsOn: [api], deploy: { run: "true" } }\nenvironments:\n  production: {}\n',
});

function slipway(user: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/slipway.js'), ...args], {
    cwd: app.dir,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', GITHUB_TOKEN: '', GITHUB_ACTOR: '', USER: user },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('shows each component with its version, when, the commit and who deployed it', () => {
  expect(slipway('alice', 'deploy', '--environment', 'production', '--version', '1.0.0').code).toBe(0);
  expect(
    slipway('bob', 'deploy', '--environment', 'production', '--version', '1.1.0', '--components', '["web"]').code,
  ).toBe(0);
  const json = slipway('carol', 'status', '--environment', 'production', '--json');
  expect(json.code).toBe(0);
  const sha = app.head().slice(0, 7);
  expect(JSON.parse(json.stdout).components).toEqual([
    { component: 'api', version: '1.0.0', at: expect.any(String), sha, by: 'alice', task: 'deploy' },
    { component: 'web', version: '1.1.0', at: expect.any(String), sha, by: 'bob', task: 'deploy' },
  ]);
  const table = slipway('carol', 'status', '--environment', 'production');
  expect(table.code).toBe(0);
  expect(table.stdout).toMatch(/\| component \| version \| deployed at \| commit \| by \| task \|/);
  expect(table.stdout).toMatch(new RegExp(`\\| api \\| 1\\.0\\.0 \\| [^|]+ \\| ${sha} \\| alice \\| deploy \\|`));
  expect(table.stdout).toMatch(new RegExp(`\\| web \\| 1\\.1\\.0 \\| [^|]+ \\| ${sha} \\| bob \\| deploy \\|`));
});

test('refuses an environment the policy file does not define, listing those it does; a defined one with no record says so', () => {
  const typo = slipway('carol', 'status', '--environment', 'prod');
  expect(typo.code).toBe(1);
  expect(typo.stderr.trim()).toBe(
    'error: --environment: unknown environment "prod" in .github/slipway.yml (expected one of: production)',
  );
  expect(typo.stdout).toBe('');
  const other = createRepo();
  try {
    other.commit('feat: app', {
      '.github/slipway.yml':
        'components:\n  api: { deploy: { run: "true" } }\nenvironments:\n  staging: {}\n  production: {}\n',
    });
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/slipway.js'), 'status', '--environment', 'staging'], {
      cwd: other.dir,
      encoding: 'utf8',
      env: { ...process.env, CI: 'true' },
    });
    expect(r.status).toBe(0);
    expect(r.stderr.trim()).toBe('Nothing recorded as deployed to staging.');
  } finally {
    other.cleanup();
  }
});

test('a component a cancelled deployment stopped in the middle of shows as unknown, with what is known', async () => {
  const other = createRepo();
  try {
    other.commit('feat: app', {
      '.github/slipway.yml':
        'components:\n  api: { deploy: { run: "true" } }\n  web: { deploy: { run: "true" } }\n  db: { deploy: { run: "true" } }\nenvironments:\n  production: {}\n',
    });
    const ledger = new FileLedger(other.dir);
    const lock = { timeoutMs: 0, ttlMs: 3_600_000, log: createMemoryRuntime().log };
    const run = async (versions: Record<string, string>, state: 'success' | 'error', description: string) => {
      const e = await ledger.begin(
        {
          environment: 'production',
          task: 'deploy',
          ref: 'main',
          sha: other.head(),
          versions,
          creator: 'dana',
          description,
        },
        lock,
      );
      await ledger.finish(e.id, { state, description });
      return e.id;
    };
    await run({ api: '1.0.0', web: '1.0.0', db: '1.0.0' }, 'success', 'deploy succeeded');
    // db finished, api was stopped in the middle, web never started.
    const cancelled = await run(
      { api: '1.1.0', web: '1.1.0', db: '1.1.0' },
      'error',
      'cancelled (SIGTERM) while deploying api@1.1.0 (done: db@1.1.0)',
    );
    const r = spawnSync(
      process.execPath,
      [path.join(ROOT, 'bin/slipway.js'), 'status', '--environment', 'production', '--json'],
      { cwd: other.dir, encoding: 'utf8', env: { ...process.env, CI: 'true' } },
    );
    expect(r.status).toBe(0);
    const rows = JSON.parse(r.stdout).components as { component: string; version: string | null; note?: string }[];
    expect(rows.map((x) => [x.component, x.version, x.note])).toEqual([
      ['api', null, `cancelled (SIGTERM) while deploying 1.1.0 (deployment #${cancelled}); ran 1.0.0 before`],
      ['web', '1.0.0', undefined],
      ['db', '1.1.0', `deployed by #${cancelled}, which was cancelled (SIGTERM) afterwards`],
    ]);

    // A cancelled deployment whose description does not list them (an older record): all of it is unknown.
    await run({ web: '1.2.0' }, 'error', 'cancelled (SIGINT): deploy web@1.2.0');
    const table = spawnSync(
      process.execPath,
      [path.join(ROOT, 'bin/slipway.js'), 'status', '--environment', 'production'],
      { cwd: other.dir, encoding: 'utf8', env: { ...process.env, CI: 'true' } },
    );
    expect(table.stdout).toMatch(
      /^\| web \| unknown \| .*\| cancelled \(SIGINT\) while deploying 1\.2\.0 .*ran 1\.0\.0 before \|$/m,
    );
    expect(table.stdout).toMatch(/^\| component \| version \| deployed at \| commit \| by \| task \| note \|$/m);
  } finally {
    other.cleanup();
  }
});
