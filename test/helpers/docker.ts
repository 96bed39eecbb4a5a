/**
 * A private Docker daemon for tests: its own data root, exec root, pidfile and unix socket in
 * a temporary folder, no bridge and no iptables (services use host networking), and the
 * ulimits this sandbox needs. Images are made with `docker import` from a busybox root
 * filesystem, since no registry is reachable. `stop` ends dockerd by its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from '../../src/core/exec.js';
import { trackServer, untrackServer } from './processes.js';

/** A running daemon. */
export interface Dockerd {
  /** DOCKER_HOST for clients. */
  host: string;
  pid: number;
  /** The environment for docker and compose clients of this daemon. */
  env: NodeJS.ProcessEnv;
  /** Build an image from busybox plus `files` (path in the image → content). */
  importImage(tag: string, files: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

/** Start dockerd, or return why it cannot start here (the caller skips, saying so). */
export async function startDockerd(): Promise<Dockerd | { skip: string }> {
  for (const bin of ['dockerd', 'docker', 'busybox'])
    if ((await execFile('which', [bin]).catch(() => ({ code: 1 }))).code !== 0)
      return { skip: `${bin} is not installed` };
  const dir = mkdtempSync(path.join(tmpdir(), 'dockerd-'));
  const socket = path.join(dir, 'docker.sock');
  const host = `unix://${socket}`;
  const child: ChildProcess = spawn(
    'dockerd',
    [
      '--data-root',
      path.join(dir, 'data'),
      '--exec-root',
      path.join(dir, 'exec'),
      '--pidfile',
      path.join(dir, 'dockerd.pid'),
      '--host',
      host,
      '--bridge=none',
      '--iptables=false',
      '--default-ulimit',
      'nofile=1024:1024',
      '--default-ulimit',
      'nproc=1024:1024',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: false },
  );
  if (child.pid) trackServer(child.pid, 'dockerd');
  const log: Buffer[] = [];
  child.stderr!.on('data', (d: Buffer) => log.push(d));
  const env = { ...process.env, DOCKER_HOST: host };
  const cleanup = async () => {
    await execFile('umount', [path.join(dir, 'exec', 'netns', 'default')]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };

  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    if (child.pid) untrackServer(child.pid);
    await cleanup();
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      const last = Buffer.concat(log).toString('utf8').trim().split('\n').slice(-2).join(' | ');
      await cleanup();
      return { skip: `dockerd exited with ${child.exitCode}: ${last}` };
    }
    if (
      existsSync(socket) &&
      (await execFile('docker', ['version'], { env, timeoutMs: 10_000 }).catch(() => ({ code: 1 }))).code === 0
    )
      break;
    if (Date.now() > deadline) {
      await stop();
      return { skip: `dockerd did not answer on ${socket} within 30 s` };
    }
    await new Promise((r) => setTimeout(r, 250));
  }

  return {
    host,
    pid: child.pid!,
    env,
    async importImage(tag, files) {
      const root = mkdtempSync(path.join(dir, 'rootfs-'));
      try {
        mkdirSync(path.join(root, 'bin'));
        copyFileSync(readlinkBusybox(), path.join(root, 'bin', 'busybox'));
        // With the host's /usr mounted read-only, its programs (node) run in the container.
        symlinkSync('usr/lib', path.join(root, 'lib'));
        symlinkSync('usr/lib64', path.join(root, 'lib64'));
        for (const applet of ['sh', 'httpd', 'wget', 'cat', 'sleep', 'test'])
          symlinkSync('busybox', path.join(root, 'bin', applet));
        for (const [file, content] of Object.entries(files)) {
          mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
          writeFileSync(path.join(root, file), content);
        }
        const tar = spawn('tar', ['-C', root, '-c', '.'], { stdio: ['ignore', 'pipe', 'ignore'] });
        const imp = spawn('docker', ['import', '-', tag], { env, stdio: ['pipe', 'ignore', 'pipe'] });
        tar.stdout.pipe(imp.stdin);
        const err: Buffer[] = [];
        imp.stderr.on('data', (d: Buffer) => err.push(d));
        const code = await new Promise<number | null>((r) => imp.on('close', r));
        if (code !== 0) throw new Error(`docker import ${tag} failed: ${Buffer.concat(err).toString('utf8')}`);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
    stop,
  };
}

/** The static busybox binary (Debian's busybox-static installs it as /bin/busybox). */
function readlinkBusybox(): string {
  for (const candidate of ['/bin/busybox', '/usr/bin/busybox'])
    if (existsSync(candidate) && readFileSync(candidate).subarray(0, 4).toString('latin1') === '\x7fELF')
      return candidate;
  throw new Error('no busybox binary');
}
