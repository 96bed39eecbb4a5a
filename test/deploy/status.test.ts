/** `slipway status`: what runs where, when, from which commit and who deployed it, from the ledger. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
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
