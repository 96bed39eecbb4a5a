/** Run a bundled action the way a GitHub runner does: node dist/<name>/index.js with INPUT_* and the file commands. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** What a runner would see after the step. */
export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  /** Output names in the order GITHUB_OUTPUT received them, repeats included. */
  outputNames: string[];
  summary: string;
  env: Record<string, string>;
}

/** Parse a GITHUB_OUTPUT / GITHUB_ENV file (name=value and heredoc forms). */
function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line) continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delim] = heredoc;
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== delim; i++) body.push(lines[i]);
      out[name] = body.join('\n');
    } else {
      const eq = line.indexOf('=');
      if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  return out;
}

/** Options for one action run. */
export interface RunOptions {
  /** Input name → value; become INPUT_<NAME>. */
  inputs?: Record<string, string>;
  /** The repository the step runs in (GITHUB_WORKSPACE and the working directory). */
  cwd: string;
  env?: Record<string, string>;
  /** The event payload written to GITHUB_EVENT_PATH. */
  event?: unknown;
  eventName?: string;
  timeoutMs?: number;
  /** Called with the action's process once started (a test that signals it, as a runner cancelling the job). */
  onStart?: (child: ChildProcess) => void;
}

/** Run dist/<name>/index.js as a runner would and collect its outputs and summary. */
export async function runBundledAction(name: string, options: RunOptions): Promise<ActionRun> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'slipway-runner-'));
  const files = {
    GITHUB_OUTPUT: path.join(tmp, 'output'),
    GITHUB_ENV: path.join(tmp, 'env'),
    GITHUB_STEP_SUMMARY: path.join(tmp, 'summary'),
    GITHUB_STATE: path.join(tmp, 'state'),
    GITHUB_PATH: path.join(tmp, 'path'),
    GITHUB_EVENT_PATH: path.join(tmp, 'event.json'),
  };
  for (const f of Object.values(files)) writeFileSync(f, '');
  writeFileSync(files.GITHUB_EVENT_PATH, JSON.stringify(options.event ?? {}));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmp,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_WORKSPACE: options.cwd,
    GITHUB_EVENT_NAME: options.eventName ?? 'push',
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_RUN_ID: '1001',
    GITHUB_SERVER_URL: 'https://github.com',
    RUNNER_TEMP: tmp,
    ...files,
    ...options.env,
  };
  for (const [k, v] of Object.entries(options.inputs ?? {})) env[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v;
  const entry = path.join(ROOT, 'dist', name, 'index.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run bundle`);
  const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [entry], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    options.onStart?.(child);
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
  const run: ActionRun = {
    ...result,
    outputs: parseFileCommands(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    outputNames: [...readFileSync(files.GITHUB_OUTPUT, 'utf8').matchAll(/^([\w-]+)(?:<<|=)/gm)].map((m) => m[1]),
    env: parseFileCommands(readFileSync(files.GITHUB_ENV, 'utf8')),
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
  };
  rmSync(tmp, { recursive: true, force: true });
  return run;
}

/**
 * The workflow commands a runner reads in `stdout`: each line that starts with `::` after
 * blanks, except those between `::stop-commands::TOKEN` and `::TOKEN::` (and those markers).
 */
export function runnerCommands(stdout: string): string[] {
  const out: string[] = [];
  let stopped: string | null = null;
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    if (stopped !== null) {
      if (line === `::${stopped}::`) stopped = null;
      continue;
    }
    const stop = /^::stop-commands::(.+)$/.exec(line);
    if (stop) stopped = stop[1];
    else if (line.startsWith('::')) out.push(line);
  }
  return out;
}

/** The `::error::` commands a run printed, as a runner reads them. */
export function errorLines(run: ActionRun): string[] {
  return runnerCommands(run.stdout).filter((l) => l.startsWith('::error'));
}
