/**
 * `target: release` over SSH against a real sshd on 127.0.0.1 (and on this machine without
 * ssh): atomic switches, pruning by deploy order, rollback to a pruned release refused with
 * `current` unchanged, and a host key that does not match refused.
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { runDeploy } from '../../src/deploy/deploy.js';
import { FileLedger } from '../../src/deploy/record/file-ledger.js';
import { releasesToPrune } from '../../src/deploy/targets/release.js';
import { sshdAvailable, sshPolicy, startSshd, type TestSshd } from '../helpers/sshd.js';
import { createProduct, type Product } from './fixture.js';

const available = sshdAvailable();
if (!available) console.warn('release-target tests skipped: no OpenSSH server (/usr/sbin/sshd) on this machine');
const maybe = available ? describe : describe.skip;

maybe('target: release', () => {
  let sshd: TestSshd;
  let p: Product;
  let app: string;
  beforeAll(async () => {
    sshd = await startSshd();
  }, 30_000);
  afterAll(() => sshd?.stop());
  beforeEach(async () => {
    p = await createProduct();
    app = mkdtempSync(path.join(tmpdir(), 'slipway-app-'));
  });
  afterEach(async () => {
    await p.close();
    rmSync(app, { recursive: true, force: true });
  });

  const configure = (deploy: Record<string, unknown>, withSsh = true) =>
    p.writeConfig(
      stringify({
        components: {
          web: {
            deploy: {
              target: 'release',
              path: app,
              artifact: 'build',
              keep: 3,
              activate: 'echo "$SLIPWAY_VERSION from $SLIPWAY_PREVIOUS_VERSION" >> ../../activated.log',
              ...(withSsh ? { ssh: sshPolicy(sshd) } : {}),
              ...deploy,
            },
          },
        },
        environments: { staging: {} },
      }),
    );

  async function deploy(version: string, extra: Record<string, string> = {}, known = sshd.knownHosts) {
    // What the build left for this version.
    mkdirSync(path.join(p.dir, 'build'), { recursive: true });
    writeFileSync(path.join(p.dir, 'build', 'VERSION'), `${version}\n`);
    const rt = p.runtime();
    Object.assign(rt.env, { DEPLOY_KEY: sshd.userKey, KNOWN_HOSTS: known });
    let error: Error | undefined;
    try {
      await runDeploy({
        inputs: p.inputs({ environment: 'staging', version, timeout: '5', ...extra }),
        record: new FileLedger(p.dir),
        runtime: rt,
      });
    } catch (err) {
      error = err as Error;
    }
    return { error, rt };
  }

  const current = () => path.basename(readlinkSync(path.join(app, 'current')));
  const releases = () => readdirSync(path.join(app, 'releases')).sort();

  test('deploys a release over SSH, switches current, runs activate with the SLIPWAY_* variables, and never logs the key', async () => {
    configure({});
    const first = await deploy('1.0.0');
    expect(first.error).toBeUndefined();
    const second = await deploy('1.1.0');
    expect(second.error).toBeUndefined();
    expect(current()).toBe('1.1.0');
    expect(readFileSync(path.join(app, 'current', 'VERSION'), 'utf8')).toBe('1.1.0\n');
    expect(readFileSync(path.join(app, 'activated.log'), 'utf8')).toBe('1.0.0 from \n1.1.0 from 1.0.0\n');
    expect(second.rt.text()).toContain(`[web] current → releases/1.1.0 on ${sshd.user}@127.0.0.1:${sshd.port}`);
    expect(second.rt.text()).not.toContain('PRIVATE KEY');
  });

  test('four deploys within a second with keep: 3 leave three releases, current and the last good one among them', async () => {
    configure({});
    for (const v of ['2.0.0', '2.0.1', '2.0.2', '2.0.3']) expect((await deploy(v)).error).toBeUndefined();
    expect(releases()).toEqual(['2.0.1', '2.0.2', '2.0.3']);
    expect(current()).toBe('2.0.3');
    // A rollback to the last good release is instant; to a pruned one it fails in one line, current unchanged.
    const back = await deploy('', { rollback: 'true' });
    expect(back.error).toBeUndefined();
    expect(current()).toBe('2.0.2');
    const pruned = await deploy('', { rollback: 'true', 'to-version': '2.0.0' });
    expect(pruned.error?.message).toMatch(
      /rollback to staging failed at web 2\.0\.0: release 2\.0\.0 is not in .*\/releases on .* \(pruned\?\); current still points at 2\.0\.2/,
    );
    expect(pruned.error?.message).not.toContain('\n');
    expect(current()).toBe('2.0.2');
  });

  test('a reader looping on current/VERSION during switches never finds it missing', async () => {
    configure({ keep: 10 });
    expect((await deploy('3.0.0')).error).toBeUndefined();
    // The shell's own read, not cat: a loop that forks starves the deploys it watches; and at the
    // lowest priority, so on a busy machine it samples in the deploys' idle time instead of taking
    // a core from them (and from the test file running beside this one).
    const reader = spawn(
      'nice',
      [
        '-n',
        '19',
        'sh',
        '-c',
        'exec 2>/dev/null; n=0; while [ ! -e stop ]; do read -r v < current/VERSION || n=$((n+1)); done; echo "$n"',
      ],
      { cwd: app, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const closed = new Promise((r) => reader.on('close', r));
    let out = '';
    reader.stdout.on('data', (d) => (out += d));
    try {
      for (const v of ['3.0.1', '3.0.2', '3.0.3', '3.0.4', '3.0.5']) expect((await deploy(v)).error).toBeUndefined();
    } finally {
      // Stopped whatever happened: a reader left spinning would slow every test after this one.
      writeFileSync(path.join(app, 'stop'), '');
      const killer = setTimeout(() => reader.kill('SIGKILL'), 5_000);
      await closed;
      clearTimeout(killer);
    }
    expect(out.trim()).toBe('0');
    expect(current()).toBe('3.0.5');
  }, 120_000);

  test('a known_hosts line that does not match the host is refused, and nothing is deployed', async () => {
    configure({});
    const r = await deploy('4.0.0', {}, sshd.wrongKnownHosts);
    expect(r.error?.message).toMatch(/ssh to .*127\.0\.0\.1.* failed: .*Host key verification failed/);
    expect(existsSync(path.join(app, 'releases'))).toBe(false);
  });

  test('an activate that exits 255 runs once and fails as the activate command, not as ssh', async () => {
    configure({});
    expect((await deploy('4.1.0')).error).toBeUndefined();
    // ssh's own exit status for a failed connection is 255 too: the command reached the host, so it is not run again.
    const count = path.join(app, 'act.count');
    configure({ activate: `echo ran >> '${count}'; echo oops >&2; exit 255` });
    const r = await deploy('4.2.0');
    expect(r.error?.message).toMatch(
      /failed at web 4\.2\.0: the activate command on .*127\.0\.0\.1.* failed \(exit 255\): oops/,
    );
    expect(r.error?.message).not.toMatch(/ssh to|known_hosts/);
    // Once for the deploy, once for the automatic rollback's switch back to 4.1.0.
    expect(readFileSync(count, 'utf8')).toBe('ran\nran\n');
    expect(current()).toBe('4.1.0');
  });

  test('without ssh the same steps run on this machine', async () => {
    configure({}, false);
    expect((await deploy('5.0.0')).error).toBeUndefined();
    expect((await deploy('5.0.1')).error).toBeUndefined();
    expect(current()).toBe('5.0.1');
    expect(releases()).toEqual(['5.0.0', '5.0.1']);
  });

  test('a first deploy creates path and path/releases, over SSH and on this machine', async () => {
    // Capistrano creates the application folder too: the first deploy needs nothing prepared.
    const remote = path.join(app, 'srv', 'web');
    configure({ path: remote });
    const r = await deploy('8.0.0');
    expect(r.error).toBeUndefined();
    expect(path.basename(readlinkSync(path.join(remote, 'current')))).toBe('8.0.0');
    expect(readFileSync(path.join(remote, 'current', 'VERSION'), 'utf8')).toBe('8.0.0\n');
    const local = path.join(app, 'local', 'web');
    configure({ path: local }, false);
    expect((await deploy('8.0.1')).error).toBeUndefined();
    expect(readdirSync(path.join(local, 'releases'))).toEqual(['8.0.1']);
  });

  test('a path that cannot be created fails in one line naming path and the host', async () => {
    // A regular file where a parent folder should be: mkdir fails even for root.
    writeFileSync(path.join(app, 'taken'), '');
    const blocked = path.join(app, 'taken', 'web');
    configure({ path: blocked });
    const r = await deploy('9.0.0');
    expect(r.error?.message).toContain(
      `failed at web 9.0.0: path ${blocked} could not be created on ${sshd.user}@127.0.0.1:${sshd.port}: mkdir: `,
    );
    expect(r.error?.message).toMatch(/Not a directory/);
    expect(r.error?.message).not.toContain('\n');
  });

  test('a missing artifact fails in one line before anything reaches the host', async () => {
    configure({});
    expect((await deploy('6.9.0')).error).toBeUndefined();
    configure({ artifact: 'no-such-build' });
    const r = await deploy('7.0.0');
    // current never moved: nothing is rolled back, and the outputs name what still runs.
    expect(r.rt.outputs.status).toBe('failed');
    expect(JSON.parse(r.rt.outputs.deployed)).toEqual({ web: '6.9.0' });
    expect(r.error?.message).toMatch(/; nothing changed for web \(still 6\.9\.0\)$/);
    expect(current()).toBe('6.9.0');
    expect(r.error?.message).toMatch(
      /failed at web 7\.0\.0: artifact no-such-build does not exist \(expected the folder or \.tar\.gz the build left\)/,
    );
  });

  test('bad settings are one line at their key in the policy file', async () => {
    configure({ keep: 1 });
    expect((await deploy('6.0.0')).error?.message).toMatch(
      /^\.github\/slipway\.yml:\d+:\d+: components\.web\.deploy\.keep: expected a whole number of releases, at least 2, got 1$/,
    );
    configure({ path: 'relative/app' });
    expect((await deploy('6.0.0')).error?.message).toMatch(
      /components\.web\.deploy\.path: a release target needs "path"/,
    );
  });
});

test('pruning keeps the most recently deployed, never current or the last good one, whatever the folder times', () => {
  const log = ['1', '2', '3', '2', '4'];
  expect(releasesToPrune(log, ['1', '2', '3', '4'], 2, ['4', '1'])).toEqual(['2', '3']);
  expect(releasesToPrune(log, ['1', '2', '3', '4', 'manual'], 3, ['4', '3'])).toEqual(['1', 'manual']);
});
