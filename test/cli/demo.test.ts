import { describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../helpers/run-action.js';

describe('npm run demo', () => {
  it('releases the sample product, rolls back the broken bot by itself, and leaves nothing behind', () => {
    // A temporary folder of its own: another demo running at the same time (a second test
    // run on the machine) must neither be counted as left behind nor hide what this one left.
    const tmp = mkdtempSync(path.join(tmpdir(), 'slipway-demo-test-'));
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/slipway.js'), 'demo'], {
      cwd: ROOT,
      encoding: 'utf8',
      // A real database in the user's shell is never what the demo migrates (nothing listens on port 1).
      env: { ...process.env, CI: 'true', TMPDIR: tmp, DATABASE_URL: 'postgres://app:s3cret@127.0.0.1:1/production' },
      timeout: 170_000,
    });
    const out = r.stdout + r.stderr;
    expect(r.status).toBe(0);
    expect(out).toContain('✔ release: v0.1.0');
    expect(out).not.toContain('127.0.0.1:1');
    expect(out).toMatch(/bot \/health: HTTP 200, status ok, version 0\.1\.0/);
    expect(out).toMatch(/↩ deploy local: .*BOT_TOKEN missing.*rolled back/);
    expect(out).toMatch(/bot \/health after the rollback: HTTP 200, status ok, version 0\.1\.0/);
    // The verdict is the smoke test's (its outputs, through the pipeline), and deploy's record of what runs.
    const verdict = /smoke test after the rollback: (\d+)\/(\d+) check\(s\) passed, the bot runs 0\.1\.0 again/.exec(
      out,
    );
    expect(verdict).not.toBeNull();
    expect(Number(verdict![1])).toBeGreaterThanOrEqual(3);
    expect(verdict![1]).toBe(verdict![2]);
    expect(out).toMatch(/Stopped 3 service\(s\) and removed /);
    expect(out).toContain(`removed ${tmp}/slipway-demo-`);
    // (tsx keeps its compile cache there too: only the demo's own folders count.)
    expect(readdirSync(tmp).filter((f) => f.startsWith('slipway-demo-'))).toEqual([]);
    const leftover = spawnSync('pgrep', ['-f', tmp], { encoding: 'utf8' }).stdout.trim();
    expect(leftover).toBe('');
    rmSync(tmp, { recursive: true, force: true });
  }, 180_000);

  it('Ctrl-C once the services run: stops them and removes the folder, then exits 130', async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'slipway-demo-test-'));
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/slipway.js'), 'demo'], {
      cwd: ROOT,
      env: { ...process.env, CI: 'true', TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const code = await new Promise<number | null>((resolve) => {
      const onData = (d: Buffer) => {
        out += d;
        // The first release is live: three services run from the demo's folder.
        if (out.includes('bot /health:') && !child.killed) child.kill('SIGINT');
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (c) => resolve(c));
    });
    expect(out).toContain('bot /health: HTTP 200');
    expect(code).toBe(130);
    expect(out).toMatch(/Stopped 3 service\(s\) and removed /);
    expect(readdirSync(tmp).filter((f) => f.startsWith('slipway-demo-'))).toEqual([]);
    const leftover = spawnSync('pgrep', ['-f', tmp], { encoding: 'utf8' }).stdout.trim();
    expect(leftover).toBe('');
    rmSync(tmp, { recursive: true, force: true });
  }, 180_000);
});
