/**
 * A real OpenSSH server for tests on 127.0.0.1 and a free port, with a generated host key and
 * user key; the current user logs in with the key only. Stopped by its PID.
 *
 *   const sshd = await startSshd();
 *   env = { ...env, DEPLOY_KEY: sshd.userKey, KNOWN_HOSTS: sshd.knownHosts };
 *   deploy: { ..., ssh: sshPolicy(sshd) }
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { trackServer, untrackServer } from './processes.js';
import { freePort } from './postgres.js';

/** A running server. */
export interface TestSshd {
  port: number;
  user: string;
  /** The user's private key (OpenSSH format). */
  userKey: string;
  /** The known_hosts line for the server. */
  knownHosts: string;
  /** A known_hosts line for the right address with a different key: a host-key mismatch. */
  wrongKnownHosts: string;
  /** A valid private key the server does not accept. */
  otherKey: string;
  /** What sshd has logged so far (LogLevel VERBOSE: a "Connection from" line per connection). */
  log(): string;
  stop(): void;
}

const SSHD = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((p) => existsSync(p)) ?? 'sshd';

/** True when an OpenSSH server and client are installed. */
export function sshdAvailable(): boolean {
  return existsSync(SSHD) && existsSync('/usr/bin/ssh');
}

function keygen(file: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`sshd exited: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on ${port}: ${log()}`);
}

/** A target's `deploy.ssh` for this server: the key in DEPLOY_KEY, the known_hosts lines in KNOWN_HOSTS. */
export function sshPolicy(sshd: TestSshd): Record<string, unknown> {
  return {
    host: '127.0.0.1',
    port: sshd.port,
    user: sshd.user,
    key: { env: 'DEPLOY_KEY' },
    knownHosts: { env: 'KNOWN_HOSTS' },
  };
}

/**
 * Why a server with a private folder (`startSshd({ privateDir })`) cannot start here, or null
 * when it can: it needs unshare(1) and the right to mount (root).
 */
export function privateDirUnavailable(): string | null {
  const probe = mkdtempSync(path.join(tmpdir(), 'slipway-ns-'));
  try {
    execFileSync('unshare', ['--mount', '--propagation', 'private', 'mount', '-t', 'tmpfs', 'tmpfs', probe], {
      stdio: 'pipe',
      timeout: 10_000,
    });
    return null;
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    return `unshare --mount with a tmpfs is not permitted here (${(e.stderr?.toString().trim() || e.message).split('\n')[0]})`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** How to start the server. */
interface SshdOptions {
  /**
   * A folder that the host's commands see empty and private: sshd runs in a mount namespace of
   * its own with a tmpfs over it, so what they create there is invisible to this process, as
   * on a real remote host.
   */
  privateDir?: string;
  /** A file the login shell (when it is bash) reads before each command, as a ~/.bashrc. */
  startupFile?: string;
}

/** Start sshd; the caller stops it (afterAll). */
export async function startSshd(options: SshdOptions = {}): Promise<TestSshd> {
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-sshd-'));
  const port = await freePort();
  const user = userInfo().username;
  keygen(path.join(dir, 'host'));
  keygen(path.join(dir, 'user'));
  keygen(path.join(dir, 'other'));
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(path.join(dir, 'user.pub')), { mode: 0o600 });
  // Privilege separation needs this folder when sshd starts as root.
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true });
  writeFileSync(
    path.join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${path.join(dir, 'host')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      'UsePAM no',
      'MaxSessions 50',
      'MaxStartups 50',
      'LogLevel VERBOSE',
      // bash sources ~/.bashrc for a command run by sshd unless it is a nested shell: a login
      // user's .bashrc (this machine's runs pyenv init) would add half a second to every command.
      // BASH_ENV stands in for one where a test asks (bash reads it for every command).
      `SetEnv SHLVL=1${options.startupFile ? ` BASH_ENV=${options.startupFile}` : ''}`,
      '',
    ].join('\n'),
  );
  let log = '';
  const sshd = [SSHD, '-D', '-e', '-f', path.join(dir, 'sshd_config')];
  // unshare and sh exec in place: the child's PID is sshd's.
  const argv = options.privateDir
    ? [
        'unshare',
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        'mount -t tmpfs tmpfs "$1" && shift && exec "$@"',
        'sh',
        options.privateDir,
        ...sshd,
      ]
    : sshd;
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  if (child.pid) trackServer(child.pid, 'sshd');
  await waitForPort(port, child, () => log);
  const hostPub = readFileSync(path.join(dir, 'host.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const otherPub = readFileSync(path.join(dir, 'other.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  return {
    port,
    user,
    userKey: readFileSync(path.join(dir, 'user'), 'utf8'),
    knownHosts: `[127.0.0.1]:${port} ${hostPub}`,
    wrongKnownHosts: `[127.0.0.1]:${port} ${otherPub}`,
    otherKey: readFileSync(path.join(dir, 'other'), 'utf8'),
    log: () => log,
    stop() {
      if (child.pid && child.exitCode === null) child.kill('SIGTERM');
      if (child.pid) untrackServer(child.pid);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
