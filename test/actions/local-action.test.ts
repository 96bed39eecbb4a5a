/**
 * @github/local-action, the standard way to run an action on a laptop, stubs @actions/core:
 * with the runtime over @actions/core it sees an action's outputs (it saw none while the
 * runner's protocol was written by hand).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRepo } from '../helpers/git-repo.js';
import { ROOT } from '../helpers/run-action.js';

test('local-action runs version-bump and captures its outputs', () => {
  const repo = createRepo();
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-local-action-'));
  try {
    repo.commit('chore: init');
    repo.tag('v1.2.3');
    repo.commit('feat: a feature');
    const env = path.join(dir, '.env');
    writeFileSync(
      env,
      [
        `GITHUB_WORKSPACE=${repo.dir}`,
        'GITHUB_REF=refs/heads/main',
        'GITHUB_REF_NAME=main',
        'INPUT_BUMP=auto',
        '',
      ].join('\n'),
    );
    const r = spawnSync(
      process.execPath,
      [
        path.join(ROOT, 'node_modules/@github/local-action/bin/local-action.js'),
        'run',
        ROOT,
        'src/actions/version-bump.ts',
        env,
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
    );
    expect(r.status).toBe(0);
    // Its own table of the outputs it captured through its @actions/core stub.
    const table = r.stdout.slice(r.stdout.indexOf('Action Outputs'));
    expect(table).toMatch(/'version'\s*│\s*'1\.3\.0'/);
    expect(table).toMatch(/'bump'\s*│\s*'minor'/);
    expect(table).toMatch(/'previous-tag'\s*│\s*'v1\.2\.3'/);
  } finally {
    repo.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
