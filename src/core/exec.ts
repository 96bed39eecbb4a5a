/**
 * Child processes, always from an argument array. The one place a shell is used is
 * runUserCommand, for the user's own `run:` strings, and values reach it through the
 * environment, never by pasting them into the command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { CancelledError, isCancelled, onCancel } from './cancel.js';

/** Processes this run started and that are still running; a user command is its own process group. */
const live = new Map<ChildProcess, { group: boolean }>();

function track(child: ChildProcess, group: boolean): void {
  live.set(child, { group });
  child.once('close', () => live.delete(child));
  child.once('error', () => live.delete(child));
}

function signal(child: ChildProcess, group: boolean, sig: NodeJS.Signals): void {
  try {
    if (group && child.pid) process.kill(-child.pid, sig);
    else child.kill(sig);
  } catch {
    // ESRCH: already gone.
  }
}

/** How long a stopped process gets to exit on SIGTERM before its group gets SIGKILL. */
const STOP_GRACE_MS = 1_000;

/**
 * Stop every process this run started: SIGTERM to each (a user command's whole process
 * group), SIGKILL after STOP_GRACE_MS to whatever is left, including a group's members that
 * outlived its shell. Resolves once they are gone.
 */
async function stopAllProcesses(graceMs = STOP_GRACE_MS): Promise<void> {
  const children = [...live];
  if (children.length === 0) return;
  const closed = children.map(
    ([child]) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once('close', () => resolve());
      }),
  );
  for (const [child, { group }] of children) signal(child, group, 'SIGTERM');
  await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, graceMs).unref())]);
  for (const [child, { group }] of children) signal(child, group, 'SIGKILL');
  await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, 500).unref())]);
}

onCancel(() => stopAllProcesses(), 'stop');

/** The result of a finished process. */
export interface ExecResult {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options shared by the process helpers. */
export interface ExecOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** What the program reads on stdin: text, or a stream opened when it starts (an upload). */
  input?: string | (() => Readable);
  /** Kill the process after this many milliseconds. */
  timeoutMs?: number;
  /** Each line of stdout as it comes (stdout is still collected whole). */
  onLine?: (line: string) => void;
  /** Each line of stderr as it comes (stderr is still collected whole). */
  onErrorLine?: (line: string) => void;
  /**
   * A cancelled run's own cleanup (traffic back on the stable slot): it starts although the run
   * is cancelled, and the cancel does not stop it. Every other program is refused then.
   */
  cleanup?: boolean;
}

/** Raised when a process exits non-zero; carries its output. */
export class ExecError extends Error {
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    readonly result: ExecResult,
    readonly timedOut = false,
  ) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ');
    super(
      timedOut
        ? `${command} ${args[0] ?? ''} timed out`
        : `${command} ${args.join(' ')} exited with ${result.signal ?? result.code}${tail ? `: ${tail}` : ''}`,
    );
    this.name = 'ExecError';
  }
}

/** Calls `onLine` for each complete line of the chunks pushed, and for what is left at `end()`. */
function lineSplitter(onLine: ((line: string) => void) | undefined) {
  let partial = '';
  return {
    push(d: Buffer) {
      if (!onLine) return;
      partial += d.toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) onLine(l);
    },
    end() {
      if (partial && onLine) onLine(partial);
      partial = '';
    },
  };
}

/** Run a program to completion and collect its output, without a shell. */
export function execFile(command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    if (isCancelled() && !options.cleanup) return reject(new CancelledError(command));
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    if (!options.cleanup) track(child, false);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = options.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, options.timeoutMs)
      : undefined;
    const outLines = lineSplitter(options.onLine);
    child.stdout.on('data', (d: Buffer) => {
      out.push(d);
      outLines.push(d);
    });
    const errLines = lineSplitter(options.onErrorLine);
    child.stderr.on('data', (d: Buffer) => {
      err.push(d);
      errLines.push(d);
    });
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      outLines.end();
      errLines.end();
      const result = {
        code: code ?? -1,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (timedOut) reject(new ExecError(command, args, result, true));
      else resolve(result);
    });
    child.stdin.on('error', () => undefined);
    if (typeof options.input === 'function')
      options
        .input()
        .on('error', (e) => child.stdin.destroy(e))
        .pipe(child.stdin);
    else if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

/**
 * Run a cancelled run's repair that must not be cut short, because what it repairs is a
 * program killed half-way (a `docker compose up` between stopping the old container and
 * starting the new one). Nothing ends it early: it runs in a process group of its own, which a
 * second Ctrl-C to this one's does not reach; its output goes to files, not pipes, whose
 * closing at this process's exit would break its next write; and `waitMs` bounds only the
 * waiting: 'running' when it has not finished by then (it goes on after this process exits).
 * It starts although the run is cancelled, as `cleanup` does.
 */
export function execUninterrupted(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; waitMs: number },
): Promise<ExecResult | 'running'> {
  // Unnamed files: open, then removed at once, so nothing is left behind whichever of the two
  // processes ends first; this one reads them through its own descriptors.
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-exec-'));
  const out = openSync(path.join(dir, 'stdout'), 'w+');
  const err = openSync(path.join(dir, 'stderr'), 'w+');
  rmSync(dir, { recursive: true, force: true });
  const done = () => {
    closeSync(out);
    closeSync(err);
  };
  const read = (fd: number) => {
    const buf = Buffer.alloc(fstatSync(fd).size);
    readSync(fd, buf, 0, buf.length, 0);
    return buf.toString('utf8');
  };
  let child: ChildProcess;
  try {
    child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', out, err], detached: true });
  } catch (e) {
    done();
    throw e;
  }
  child.unref();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve('running'), options.waitMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      done();
      reject(e);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const result = { code: code ?? -1, signal, stdout: read(out), stderr: read(err) };
      done();
      resolve(result);
    });
  });
}

/**
 * Stream a program's stdout split on `separator`, calling `onRecord` for each record, so
 * large outputs (git log of a long history) are never held in memory at once.
 */
export function execStream(
  command: string,
  args: readonly string[],
  onRecord: (record: string) => void | false,
  options: ExecOptions & { separator?: string } = {},
): Promise<ExecResult> {
  const separator = options.separator ?? '\n';
  return new Promise((resolve, reject) => {
    if (isCancelled()) return reject(new CancelledError(command));
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    track(child, false);
    const err: Buffer[] = [];
    let pending = '';
    let stopped = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (stopped) return;
      pending += chunk;
      // One slice per record and one for the rest: a long log is tens of thousands of records.
      let start = 0;
      let idx: number;
      while ((idx = pending.indexOf(separator, start)) >= 0) {
        const record = pending.slice(start, idx);
        start = idx + separator.length;
        if (onRecord(record) === false) {
          stopped = true;
          child.kill('SIGTERM');
          return;
        }
      }
      pending = pending.slice(start);
    });
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (!stopped && pending.length > 0) onRecord(pending);
      const result = {
        code: stopped ? 0 : (code ?? -1),
        signal,
        stdout: '',
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (!stopped && result.code !== 0) reject(new ExecError(command, args, result));
      else resolve(result);
    });
  });
}

/** Options for a user's configured command. */
export interface UserCommandOptions {
  cwd: string;
  /** Variables added to the inherited environment; this is how values reach the command. */
  env: Record<string, string>;
  baseEnv?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Each line the command prints, stdout and stderr alike. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

/** The outcome of a user's command. */
export interface UserCommandResult {
  code: number;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The last lines it printed, to explain a failure. */
  tail: string[];
  durationMs: number;
}

/**
 * Run a user's `run:` string with `bash -c`. The command's process group is killed on
 * timeout so a command that started servers in the foreground does not linger, and on a
 * cancelled run (stopAllProcesses). Once the run is cancelled no command starts.
 */
export function runUserCommand(command: string, options: UserCommandOptions): Promise<UserCommandResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (isCancelled()) return reject(new CancelledError('the command'));
    const child = spawn('bash', ['-c', command], {
      cwd: options.cwd,
      env: { ...(options.baseEnv ?? process.env), ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    track(child, true);
    const tail: string[] = [];
    let timedOut = false;
    const keep = (line: string, stream: 'stdout' | 'stderr') => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      options.onLine?.(line, stream);
    };
    createInterface({ input: child.stdout }).on('line', (l) => keep(l, 'stdout'));
    createInterface({ input: child.stderr }).on('line', (l) => keep(l, 'stderr'));
    const timer = options.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          try {
            if (child.pid) process.kill(-child.pid, 'SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
        }, options.timeoutMs)
      : undefined;
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? -1, signal, timedOut, tail, durationMs: Date.now() - started });
    });
  });
}
