/**
 * Where a target's steps run: this machine, or a host over SSH (`deploy.ssh`). The system
 * OpenSSH client is used rather than an SSH library: it checks host keys against the
 * known_hosts lines the user gives (never trust-on-first-use), reuses one connection for the
 * whole run (ControlMaster), and is what the user debugs with; a library would add a
 * dependency and its own host-key handling. A step is always a program and its arguments; on
 * a host each argument is single-quoted for the remote shell, so no value is ever code.
 */
import { createReadStream } from 'node:fs';
import { chmod, mkdtemp, readFile, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { execFile, ExecError } from '../../core/exec.js';
import { duration } from '../../core/markdown.js';
import { backoffDelay, sleep } from '../../core/retry.js';
import { TargetError, type TargetOptions } from './target.js';

/** A finished step. */
interface HostResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Why a program failed, in one line, from its stderr: its last lines (up to three), without
 * stack frames, joined with " | ". The last line alone often hides the cause: a Node
 * program's error line is followed by its stack, ssh's "Load key: error in libcrypto" by
 * "Permission denied (publickey)".
 */
export function stderrCause(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^at\s/.test(l) && !/^\^+$/.test(l) && !/^Node\.js v\d/.test(l));
  return lines.slice(-3).join(' | ');
}

/** How one step runs. */
interface HostRunOptions {
  /** Variables the program sees (SLIPWAY_*, SLIPWAY_SLOT...). */
  env?: Record<string, string>;
  /** What the program reads on stdin (an upload). */
  input?: () => Readable;
  timeoutMs?: number;
  /** Each line the program prints. */
  onLine?: (line: string) => void;
  /** A cancelled run's cleanup: runs although the run is cancelled (core/exec's `cleanup`). */
  cleanup?: boolean;
}

/** Where steps run. */
export interface Host {
  /** For messages: `this machine` or `user@host:port`. */
  readonly where: string;
  /** Run `argv` (a program and its arguments, never a shell string). */
  run(argv: readonly string[], options?: HostRunOptions): Promise<HostResult>;
  /** A file's text, or null when it cannot be read. */
  readText(file: string): Promise<string | null>;
  /** Replace `file` with `text` atomically (a temporary name, then a rename). */
  writeText(file: string, text: string): Promise<void>;
  /** Point the symlink `link` at `target` atomically (a temporary link renamed over it). */
  relink(link: string, target: string): Promise<void>;
  /**
   * A way from this machine to `address` as the host sees it (`unix:/path` or `host:port`): the
   * address itself here, a local socket forwarded through the connection over SSH.
   */
  reach(address: string): Promise<Reach>;
  /** Close the shared connection. */
  close(): Promise<void>;
}

/** An address reachable from this machine; `close` removes the way there. */
interface Reach {
  /** `unix:/path` or `host:port`, for addressBaseUrl. */
  address: string;
  close(): Promise<void>;
}

/** The `deploy.ssh` settings. */
export interface SshSettings {
  host: string;
  port: number;
  user: string;
  /** The variable holding the private key. */
  keyEnv: string;
  /** The variable holding the known_hosts lines. */
  knownHostsEnv: string;
}

/** Replace file $1 with stdin, atomically. */
const WRITE = `set -eu; cat > "$1.slipway-tmp"; mv -f "$1.slipway-tmp" "$1"`;

/** Point link $1 at $2 atomically. */
const RELINK = `set -eu; ln -sfn "$2" "$1.slipway-tmp"; mv -T "$1.slipway-tmp" "$1"`;

/** The file operations of a host that runs programs: one program each (one round trip over SSH). */
function fileOps(host: Pick<Host, 'run' | 'where'>): Pick<Host, 'readText' | 'writeText' | 'relink'> {
  return {
    async readText(file) {
      const r = await host.run(['cat', file]);
      return r.code === 0 ? r.stdout : null;
    },
    async writeText(file, text) {
      const r = await host.run(['sh', '-c', WRITE, 'sh', file], { input: () => Readable.from([text]) });
      if (r.code !== 0) throw new TargetError(`cannot write ${file} on ${host.where}: ${r.stderr.trim()}`);
    },
    async relink(link, target) {
      const r = await host.run(['sh', '-c', RELINK, 'sh', link, target]);
      if (r.code !== 0) throw new TargetError(`cannot point ${link} at ${target} on ${host.where}: ${r.stderr.trim()}`);
    },
  };
}

/** Quote one argument for a POSIX shell: inside single quotes nothing is special. */
function shQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The `deploy.ssh` mapping of a target, checked; null when the target runs on this machine. */
export function sshSettings(options: TargetOptions): SshSettings | null {
  const raw = options.deploy.ssh as unknown;
  if (raw === undefined) return null;
  const at = (key: string, message: string) => options.errorAt('ssh', `${key}: ${message}`);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw options.errorAt('ssh', 'expected a mapping with host, user, key: { env } and knownHosts: { env }');
  const s = raw as Record<string, unknown>;
  const envOf = (key: string): string => {
    const v = s[key] as { env?: unknown } | undefined;
    if (!v || typeof v !== 'object' || typeof v.env !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v.env))
      throw at(
        key,
        key === 'key'
          ? 'expected { env: NAME }, the variable holding the private key (a secret)'
          : 'expected { env: NAME }, the variable holding the host’s known_hosts lines; host keys are always checked',
      );
    return v.env;
  };
  if (typeof s.host !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9.:-]*$/.test(s.host))
    throw at('host', `expected a host name or address, got ${JSON.stringify(s.host)}`);
  if (typeof s.user !== 'string' || !/^[a-z_][a-z0-9_.-]*$/i.test(s.user))
    throw at('user', `expected a user name, got ${JSON.stringify(s.user)}`);
  const port = s.port === undefined ? 22 : s.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
    throw at('port', `expected a port number from 1 to 65535, got ${JSON.stringify(port)}`);
  return { host: s.host, port, user: s.user, keyEnv: envOf('key'), knownHostsEnv: envOf('knownHosts') };
}

/**
 * Run one program through core/exec (so a cancelled run stops it with the rest), its lines
 * to onLine as they come; a timeout is a one-line TargetError. With `after`, stdout is what
 * follows the first line ending in it (what a remote shell printed before the step is dropped).
 */
async function collect(
  argv: readonly string[],
  options: HostRunOptions,
  env: NodeJS.ProcessEnv,
  after?: string,
): Promise<HostResult> {
  let begun = after === undefined;
  const onLine =
    options.onLine &&
    ((line: string) => {
      if (begun) options.onLine!(line);
      else begun = line.endsWith(after!);
    });
  try {
    const r = await execFile(argv[0], argv.slice(1), {
      env,
      input: options.input,
      timeoutMs: options.timeoutMs,
      onLine,
      // A user's command writes its warnings and errors there: the log shows them too.
      onErrorLine: options.onLine,
      cleanup: options.cleanup,
    });
    const at = after === undefined ? -1 : r.stdout.indexOf(`${after}\n`);
    const stdout = at < 0 ? r.stdout : r.stdout.slice(at + after!.length + 1);
    return { code: r.code, stdout, stderr: r.stderr };
  } catch (err) {
    if (err instanceof ExecError && err.timedOut)
      throw new TargetError(
        `${argv[0] === 'ssh' ? 'a step over ssh' : argv[0]} did not finish within ${duration(options.timeoutMs ?? 0)}`,
      );
    throw err;
  }
}

/**
 * This machine: the program runs directly, with the run's environment plus `env`; files are
 * read, written and relinked in-process, the same rename(2) as `mv -T`, without a process
 * per step on the path from a healthy slot to traffic on it.
 */
function localHost(baseEnv: NodeJS.ProcessEnv): Host {
  const where = 'this machine';
  const temp = (file: string) => `${file}.slipway-tmp`;
  return {
    where,
    run: (argv, options = {}) => collect(argv, options, { ...baseEnv, ...options.env }),
    readText: (file) => readFile(file, 'utf8').catch(() => null),
    async writeText(file, text) {
      try {
        await writeFile(temp(file), text);
        await rename(temp(file), file);
      } catch (err) {
        throw new TargetError(`cannot write ${file} on ${where}: ${(err as Error).message}`);
      }
    },
    async relink(link, target) {
      try {
        await unlink(temp(link)).catch(() => undefined);
        await symlink(target, temp(link));
        await rename(temp(link), link);
      } catch (err) {
        throw new TargetError(`cannot point ${link} at ${target} on ${where}: ${(err as Error).message}`);
      }
    },
    reach: async (address) => ({ address, close: async () => undefined }),
    close: async () => undefined,
  };
}

/**
 * Printed by the remote shell before each step: sshd runs a command with the user's login
 * shell, whose startup file may print (bash reads ~/.bashrc even for a command), and a
 * step's output is read (a state file, `readlink current`, the releases), so it is what
 * follows this line.
 */
const OUTPUT_BEGINS = '--- slipway: the step begins ---';

/** OpenSSH's exit status when the connection itself failed, and any remote program's own 255. */
const SSH_FAILED = 255;
const CONNECT_ATTEMPTS = 3;
/** Opening the connection: ConnectTimeout (10 s) plus the key exchange and login. */
const CONNECT_TIMEOUT_MS = 30_000;
/** A request to the running master (check, forward, cancel, exit): a local socket, no round trip. */
const CONTROL_TIMEOUT_MS = 10_000;
/** Failures that another attempt cannot fix: the host key does not match, the key is refused. */
const PERMANENT = /Host key verification failed|Permission denied|Too many authentication failures/;

/**
 * ssh's stderr in the user's terms: Slipway's temporary key and known_hosts files are named by
 * the variables the user set, and ssh's advice to edit the temporary file (`ssh-keygen -f … -R`)
 * is dropped: the fix is in that variable, and the file is gone by the time anyone reads it.
 */
function sshStderr(
  stderr: string,
  files: { dir: string; key: string; knownHosts: string },
  settings: Pick<SshSettings, 'keyEnv' | 'knownHostsEnv'>,
): string {
  const known = `the known_hosts lines in $${settings.knownHostsEnv}`;
  const key = `(the key in $${settings.keyEnv})`;
  return stderr
    .split('\n')
    .filter((l) => !/^\s*ssh-keygen -f .* -R /.test(l) && !/^\s*remove with:\s*$/.test(l))
    .join('\n')
    .replaceAll(`"${files.knownHosts}"`, known)
    .replace(new RegExp(`${escapeRegExp(files.knownHosts)}:(\\d+)`, 'g'), `line $1 of ${known}`)
    .replaceAll(files.knownHosts, known)
    .replaceAll(`"${files.key}"`, key)
    .replaceAll(files.key, key)
    .replaceAll(files.dir, "Slipway's temporary ssh folder");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A host over SSH: the key and known_hosts lines are written owner-only to a private folder
 * removed on close; BatchMode (never a prompt), strict host-key checking, one master
 * connection reused by every step.
 *
 * ssh exits 255 both when the connection fails and when the remote program itself exits 255,
 * so the status alone cannot say whether a step reached the host, and a step may not be safe
 * to run twice (an `activate` that restarts a service). So the master connection is opened
 * first, with `true` as its command (which never exits 255): only a failure there is a
 * connection failure, retried with backoff (not a host key mismatch or a refused key, which
 * another attempt cannot fix). A step runs only on a master that is up; when it exits 255,
 * `ssh -O check` asks the master: alive, the 255 is the program's own, returned like any
 * other exit status; gone, the connection was lost during the step, which may have run, so it
 * is reported and not run again.
 */
async function sshHost(settings: SshSettings, env: NodeJS.ProcessEnv): Promise<Host> {
  const key = env[settings.keyEnv];
  const known = env[settings.knownHostsEnv];
  if (!key?.trim())
    throw new TargetError(`deploy.ssh.key: the variable ${settings.keyEnv} is empty (expected the private key)`);
  if (!known?.trim())
    throw new TargetError(
      `deploy.ssh.knownHosts: the variable ${settings.knownHostsEnv} is empty (expected the host's known_hosts lines, from ssh-keyscan checked by you)`,
    );
  // Short: a ControlPath (and a forwarded socket) is a Unix socket path, limited to about 100 characters.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'slw-'));
  await chmod(dir, 0o700);
  const keyFile = path.join(dir, 'key');
  const knownFile = path.join(dir, 'known_hosts');
  await writeFile(keyFile, key.endsWith('\n') ? key : `${key}\n`, { mode: 0o600 });
  await writeFile(knownFile, known.endsWith('\n') ? known : `${known}\n`, { mode: 0o600 });
  const where = `${settings.user}@${settings.host}:${settings.port}`;
  const options = [
    'ssh',
    '-F',
    '/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${knownFile}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'IdentitiesOnly=yes',
    '-i',
    keyFile,
    '-o',
    'ControlMaster=auto',
    '-o',
    `ControlPath=${path.join(dir, 'cm')}`,
    '-o',
    'ControlPersist=300',
    '-o',
    'ConnectTimeout=10',
    '-o',
    'ServerAliveInterval=15',
    '-o',
    'ServerAliveCountMax=3',
    '-o',
    'LogLevel=ERROR',
    '-p',
    String(settings.port),
    '-l',
    settings.user,
  ];
  const base = [...options, settings.host];
  const sshEnv = { PATH: env.PATH ?? process.env.PATH ?? '', HOME: env.HOME ?? os.homedir() };
  const files = { dir, key: keyFile, knownHosts: knownFile };
  const cause = (stderr: string) => stderrCause(sshStderr(stderr, files, settings));
  const sshFailed = (stderr: string) =>
    new TargetError(
      `ssh to ${where} failed: ${cause(stderr) || 'no answer'} (check deploy.ssh and the host's known_hosts lines)`,
    );
  /** A request to the running master: `-O check`, `forward`, `cancel` or `exit`. */
  const control = (op: string, ...extra: string[]) =>
    collect([...options, '-O', op, ...extra, settings.host], { timeoutMs: CONTROL_TIMEOUT_MS, cleanup: true }, sshEnv);

  /** Open the master connection, retrying only what another attempt may fix. */
  const connect = async (): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      const r = await collect([...base, '--', 'true'], { timeoutMs: CONNECT_TIMEOUT_MS }, sshEnv);
      if (r.code === 0) return;
      if (attempt >= CONNECT_ATTEMPTS || PERMANENT.test(r.stderr)) throw sshFailed(r.stderr);
      await sleep(backoffDelay(attempt, 500, 4000));
    }
  };
  // One opening shared by the steps that start together; after a failure the next step tries again.
  let master: Promise<void> | undefined;
  const connected = () =>
    (master ??= connect().catch((err: unknown) => {
      master = undefined;
      throw err;
    }));
  let forwards = 0;

  const host: Host = {
    where,
    ...fileOps({ where, run: (argv, runOptions) => host.run(argv, runOptions) }),
    async run(argv, runOptions = {}) {
      await connected();
      // `env` sets the variables for the program alone; every word is quoted for the remote shell.
      const vars = Object.entries(runOptions.env ?? {}).map(([k, v]) => `${k}=${v}`);
      const remote = `printf '%s\\n' ${shQuote(OUTPUT_BEGINS)}; ${['env', ...vars, ...argv].map(shQuote).join(' ')}`;
      const result = await collect([...base, '--', remote], runOptions, sshEnv, OUTPUT_BEGINS);
      if (result.code !== SSH_FAILED) return result;
      // The master is up: the program ran and exited 255 itself; a failed command like any other.
      if ((await control('check')).code === 0) return result;
      master = undefined;
      throw new TargetError(
        `ssh to ${where}: the connection was lost during a step, which may have run on the host, so it was not run again: ${cause(result.stderr) || 'no answer'}`,
      );
    },
    async reach(address) {
      await connected();
      // The master listens on a local socket and connects to the address from the host: the
      // slot is reached as the host sees it, whatever this machine's files and network.
      const remote = address.startsWith('unix:') ? address.slice('unix:'.length) : address;
      // ssh splits -L at colons: a socket path with one would be read as host:port.
      if (address.startsWith('unix:') && remote.includes(':'))
        throw new TargetError(`cannot forward ${address} over ssh: a socket path with ":" cannot be forwarded`);
      // Named after the slot, for the health checks' retry lines; short (a socket path's limit).
      const name = path
        .basename(remote)
        .replace(/[^A-Za-z0-9._-]/g, '_')
        .slice(-40);
      const local = path.join(dir, `fwd${++forwards}-${name}`);
      const spec = `${local}:${remote}`;
      const r = await control('forward', '-L', spec);
      if (r.code !== 0)
        throw new TargetError(`cannot forward ${address} on ${where} over ssh: ${cause(r.stderr) || `exit ${r.code}`}`);
      return {
        address: `unix:${local}`,
        async close() {
          await control('cancel', '-L', spec).catch(() => undefined);
          await rm(local, { force: true });
        },
      };
    },
    async close() {
      await control('exit').catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return host;
}

/** Open where a target's steps run: over SSH when `deploy.ssh` is set, else this machine. */
export async function openHost(ssh: SshSettings | null, env: NodeJS.ProcessEnv): Promise<Host> {
  return ssh ? sshHost(ssh, env) : localHost(env);
}

/** A file to upload as stdin. */
export function fileInput(file: string): () => Readable {
  return () => createReadStream(file);
}
