/**
 * `deploy.ssh` hosts against a real sshd on 127.0.0.1: a remote command's own exit 255 is
 * that command's failure (run once, never retried as a connection failure), a host key
 * mismatch or a refused key is one line naming ssh after one connection, an unreachable host
 * is retried, ssh's messages name the user's variables rather than Slipway's temporary
 * files, and a slot that only the host can see is reached through the SSH connection.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { openHost, type Host, type SshSettings } from '../../src/deploy/targets/host.js';
import { freePort } from '../helpers/postgres.js';
import { privateDirUnavailable, sshdAvailable, startSshd, type TestSshd } from '../helpers/sshd.js';

const available = sshdAvailable();
if (!available) console.warn('ssh host tests skipped: no OpenSSH server (/usr/sbin/sshd) on this machine');
const maybe = available ? describe : describe.skip;

const settings = (port: number): SshSettings => ({
  host: '127.0.0.1',
  port,
  user: '',
  keyEnv: 'DEPLOY_KEY',
  knownHostsEnv: 'KNOWN_HOSTS',
});

/** How many connections sshd has logged. */
const connections = (sshd: TestSshd) =>
  sshd
    .log()
    .split('\n')
    .filter((l) => /Connection from 127\.0\.0\.1/.test(l)).length;

maybe('an SSH host', () => {
  let sshd: TestSshd;
  let work: string;
  beforeAll(async () => {
    sshd = await startSshd();
  }, 30_000);
  afterAll(() => sshd?.stop());
  beforeEach(() => {
    work = mkdtempSync(path.join(tmpdir(), 'slipway-ssh-host-'));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  const open = (env: Record<string, string> = {}, port = sshd.port) =>
    openHost(
      { ...settings(port), user: sshd.user },
      { PATH: process.env.PATH, DEPLOY_KEY: sshd.userKey, KNOWN_HOSTS: sshd.knownHosts, ...env },
    );

  /** The error `run` fails with, after the host is closed. */
  async function failure(host: Host): Promise<Error | undefined> {
    try {
      await host.run(['true']);
      return undefined;
    } catch (err) {
      return err as Error;
    } finally {
      await host.close();
    }
  }

  test("a command that exits 255 runs once and is that command's failure, not a connection failure", async () => {
    const count = path.join(work, 'count');
    const host = await open();
    try {
      const r = await host.run(['sh', '-c', 'echo ran >> "$1"; echo oops >&2; exit 255', 'sh', count]);
      expect(r.code).toBe(255);
      expect(r.stderr.trim()).toBe('oops');
      expect(readFileSync(count, 'utf8')).toBe('ran\n');
      // The connection is still there for the next step.
      expect((await host.run(['echo', 'next'])).stdout).toBe('next\n');
    } finally {
      await host.close();
    }
  });

  const bash = userInfo().shell?.endsWith('/bash') ?? false;
  if (!bash) console.warn("a noisy startup file's test skipped: the login shell here is not bash");
  (bash ? test : test.skip)(
    "what the login shell's startup file prints (a .bashrc) is not taken for a step's output",
    async () => {
      const startup = path.join(work, 'bashrc');
      writeFileSync(startup, 'echo "Welcome to app-1"\nprintf "no newline here"\n');
      const noisy = await startSshd({ startupFile: startup });
      try {
        // Without Slipway, the greeting is in the command's output, as scp and rsync suffer it.
        const key = path.join(work, 'key');
        writeFileSync(key, noisy.userKey, { mode: 0o600 });
        writeFileSync(path.join(work, 'known'), `${noisy.knownHosts}\n`);
        const ssh = ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${work}/known`, '-i', key];
        const raw = execFileSync('ssh', [...ssh, '-p', String(noisy.port), `${noisy.user}@127.0.0.1`, 'echo', 'x']);
        expect(raw.toString()).toBe('Welcome to app-1\nno newline herex\n');

        const host = await openHost(
          { ...settings(noisy.port), user: noisy.user },
          { PATH: process.env.PATH, DEPLOY_KEY: noisy.userKey, KNOWN_HOSTS: noisy.knownHosts },
        );
        try {
          const lines: string[] = [];
          const r = await host.run(['sh', '-c', 'echo one; echo two'], { onLine: (l) => lines.push(l) });
          expect(r.stdout).toBe('one\ntwo\n');
          expect(lines).toEqual(['one', 'two']);
          await host.writeText(path.join(work, 'state.json'), '{"live":"blue"}\n');
          expect(await host.readText(path.join(work, 'state.json'))).toBe('{"live":"blue"}\n');
        } finally {
          await host.close();
        }
      } finally {
        noisy.stop();
      }
    },
  );

  test('a host key mismatch is one line naming ssh and the variable, after one connection', async () => {
    const before = connections(sshd);
    const err = await failure(await open({ KNOWN_HOSTS: sshd.wrongKnownHosts }));
    expect(err?.message).toMatch(/^ssh to .*@127\.0\.0\.1:\d+ failed: .*Host key verification failed/);
    expect(err?.message).toContain('$KNOWN_HOSTS');
    expect(err?.message).not.toContain('\n');
    // Not Slipway's temporary copy of the lines, nor ssh's advice to edit it.
    expect(err?.message).not.toMatch(/slw-|ssh-keygen/);
    await new Promise((r) => setTimeout(r, 200));
    expect(connections(sshd) - before).toBe(1);
  });

  test('a key the host refuses is one line naming ssh, after one connection', async () => {
    const before = connections(sshd);
    const err = await failure(await open({ DEPLOY_KEY: sshd.otherKey }));
    expect(err?.message).toMatch(/^ssh to .*@127\.0\.0\.1:\d+ failed: .*Permission denied \(publickey\)/);
    expect(err?.message).not.toContain('\n');
    await new Promise((r) => setTimeout(r, 200));
    expect(connections(sshd) - before).toBe(1);
  });

  test('a key ssh cannot load is named by its variable, not by the temporary file', async () => {
    const err = await failure(await open({ DEPLOY_KEY: 'not a key' }));
    expect(err?.message).toMatch(/Load key \(the key in \$DEPLOY_KEY\): /);
    expect(err?.message).not.toContain('slw-');
  });

  test('a host that refuses connections is retried with backoff, then one line naming ssh', async () => {
    const started = Date.now();
    const err = await failure(await open({}, await freePort()));
    expect(err?.message).toMatch(/^ssh to .*failed: .*Connection refused/);
    // Two waits of 500 and 1000 ms (±20 %) between the three attempts.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_100);
  });

  test('reach: a TCP address on the host is reached through the connection', async () => {
    const server = http.createServer((_req, res) => res.end('here'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const host = await open();
    try {
      const way = await host.reach(`127.0.0.1:${port}`);
      expect(way.address).toMatch(/^unix:\//);
      const body = await getOver(way.address);
      expect(body).toBe('here');
      await way.close();
      expect(existsSync(way.address.slice('unix:'.length))).toBe(false);
    } finally {
      await host.close();
      server.close();
    }
  });
});

const privateReason = available ? privateDirUnavailable() : 'no OpenSSH server';
if (privateReason) console.warn(`ssh host private-folder test skipped: ${privateReason}`);

(privateReason ? test.skip : test)(
  'reach: a unix socket only the host can see is reached through the connection',
  async () => {
    const hidden = mkdtempSync(path.join(tmpdir(), 'slipway-hidden-'));
    const sshd = await startSshd({ privateDir: hidden });
    const host = await openHost(
      { ...settings(sshd.port), user: sshd.user },
      { PATH: process.env.PATH, DEPLOY_KEY: sshd.userKey, KNOWN_HOSTS: sshd.knownHosts },
    );
    const sock = path.join(hidden, 'slot.sock');
    let pid = 0;
    try {
      const server = await host.run([
        'sh',
        '-c',
        'nohup "$1" -e "require(\'node:http\').createServer((q, s) => s.end(\'hidden\')).listen(process.argv[1])" "$2" > /dev/null 2>&1 & echo $!',
        'sh',
        process.execPath,
        sock,
      ]);
      pid = Number(server.stdout.trim());
      // Until the server listens on the host; the runner never sees its socket.
      await host.run([
        'sh',
        '-c',
        'for i in $(seq 100); do [ -S "$1" ] && exit 0; sleep 0.05; done; exit 1',
        'sh',
        sock,
      ]);
      expect(existsSync(sock)).toBe(false);
      const way = await host.reach(`unix:${sock}`);
      const body = await getOver(way.address);
      expect(body).toBe('hidden');
      await way.close();
    } finally {
      if (pid) process.kill(pid, 'SIGKILL');
      await host.close();
      sshd.stop();
      rmSync(hidden, { recursive: true, force: true });
    }
  },
  30_000,
);

/** The body of GET / over the local socket `address` (`unix:/path`) that reach returned. */
function getOver(address: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const req = http.get({ socketPath: address.slice('unix:'.length), path: '/', timeout: 5_000 }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
  });
}
