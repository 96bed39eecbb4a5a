/**
 * The Runtime over the GitHub runner, and the one function every entry point calls: parse
 * the inputs, run the action, and turn any failure into a one-line `::error::`.
 *
 * The runner's protocol is written here directly rather than through @actions/core: its
 * index also loads @actions/http-client and undici (for OIDC tokens no action here asks
 * for), ~60 ms of every action's start, and its package exports expose nothing smaller.
 * The protocol is small: workflow commands on stdout, escaped as the runner unescapes them
 * (actions/runner ActionCommand.cs), and file commands appended to GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { EOL } from 'node:os';
import { installCancelHandlers, isCancelled } from '../core/cancel.js';
import { describeFailure, isUserError } from '../core/errors.js';
import { parseInputs, type ActionDefinition, type InputFields } from '../core/inputs.js';
import { outputString, type Annotation, type Runtime } from '../core/runtime.js';
import { SecretMasker } from '../core/secrets.js';
import { applySecretsEnv } from '../core/secrets-env.js';
import { apiFailure } from '../github/errors.js';

/** The message of a workflow command: %, CR and LF escaped. */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A property value of a workflow command: also `:` and `,`, which delimit properties. */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/**
 * `::name key=value,…::message`, properties without a value left out. As @actions/core
 * writes it, a command given properties keeps the space after its name even when none has
 * a value (`::error ::…`); the runner reads both forms.
 */
export function workflowCommand(
  name: string,
  properties: Record<string, string | number | undefined> | undefined,
  message: string,
): string {
  const keys = Object.keys(properties ?? {});
  const props = keys
    .filter((k) => properties![k] !== undefined && properties![k] !== '')
    .map((k) => `${k}=${escapeProperty(String(properties![k]))}`)
    .join(',');
  return `::${name}${keys.length ? ` ${props}` : ''}::${escapeData(message)}`;
}

/** A GITHUB_OUTPUT entry: a heredoc whose random delimiter no value can contain by accident or design. */
export function outputEntry(name: string, value: string): string {
  const delimiter = `ghadelimiter_${randomUUID()}`;
  if (name.includes(delimiter) || value.includes(delimiter))
    throw new Error(`output "${name}": the value contains the delimiter ${delimiter}`);
  return `${name}<<${delimiter}${EOL}${value}${EOL}${delimiter}${EOL}`;
}

function annotationProps(a?: Annotation): Record<string, string | number | undefined> | undefined {
  if (!a) return undefined;
  return { title: a.title, file: a.file, line: a.line, col: a.column };
}

/**
 * Where a log line goes. GitHub's log viewer folds one level of `::group::` and nothing
 * interleaved, so groups are kept whole and flat: the first group opened is printed live;
 * a group opened inside it becomes a heading line inside it (live too, unless a sibling is
 * already live); a group opened while another one at its level is live (parallel work) is
 * buffered and printed whole when the live one has ended. Which group a line belongs to is
 * the async context it is logged from.
 */
interface Sink {
  write(line: string): void;
  /** The child group printing live into this sink, if any. */
  live: Sink | null;
  /** Whole blocks of buffered children that ended while another child was live. */
  waiting: string[][];
}

function flush(sink: Sink): void {
  for (const block of sink.waiting.splice(0)) for (const line of block) sink.write(line);
}

/** Group and line routing over `out` (stdout on a runner). */
export function groupedLog(out: (line: string) => void) {
  const root: Sink = { write: out, live: null, waiting: [] };
  const context = new AsyncLocalStorage<Sink>();
  const current = () => context.getStore() ?? root;
  return {
    line: (text: string) => current().write(text),
    async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
      const parent = current();
      const top = parent === root;
      const open = top ? workflowCommand('group', undefined, name) : `── ${name.replace(/\r?\n/g, ' ')}`;
      const close = top ? [workflowCommand('endgroup', undefined, '')] : [];
      if (parent.live === null) {
        const me: Sink = { write: (l) => parent.write(l), live: null, waiting: [] };
        parent.live = me;
        parent.write(open);
        try {
          return await context.run(me, fn);
        } finally {
          flush(me);
          for (const l of close) parent.write(l);
          parent.live = null;
          flush(parent);
        }
      }
      const lines: string[] = [];
      const me: Sink = { write: (l) => lines.push(l), live: null, waiting: [] };
      try {
        return await context.run(me, fn);
      } finally {
        flush(me);
        const block = [open, ...lines, ...close];
        if (parent.live === null) for (const l of block) parent.write(l);
        else parent.waiting.push(block);
      }
    },
  };
}

/** A Runtime that writes to the GitHub runner: workflow commands on stdout, file commands for outputs and the summary. */
export function createGitHubRuntime(env: NodeJS.ProcessEnv = process.env, services: RunnerServices = {}): Runtime {
  const grouped = groupedLog((line) => process.stdout.write(line + EOL));
  const issue = (name: string, properties: Record<string, string | number | undefined> | undefined, message: string) =>
    grouped.line(workflowCommand(name, properties, message));
  const masker = new SecretMasker();
  const clean = (t: string) => masker.redact(t);
  const masked = new Set<string>();
  return {
    env,
    cwd: env.GITHUB_WORKSPACE || process.cwd(),
    log: {
      info: (m) => grouped.line(clean(m)),
      debug: (m) => issue('debug', undefined, clean(m)),
      warning: (m, a) => issue('warning', annotationProps(a), clean(m)),
      error: (m, a) => issue('error', annotationProps(a), clean(m)),
      notice: (m, a) => issue('notice', annotationProps(a), clean(m)),
      group: (name, fn) => grouped.group(clean(name), fn),
    },
    setOutput(name, value) {
      const text = clean(outputString(value));
      const file = env.GITHUB_OUTPUT;
      if (file) appendFileSync(file, outputEntry(name, text), 'utf8');
      // Without the file (an old runner, a local run) the deprecated command still works.
      else process.stdout.write(EOL + workflowCommand('set-output', { name }, text) + EOL);
    },
    async summary(markdown) {
      if (!env.GITHUB_STEP_SUMMARY) return;
      await appendFile(env.GITHUB_STEP_SUMMARY, clean(markdown) + EOL, 'utf8');
    },
    mask(secret) {
      if (!secret) return;
      masker.add(secret);
      // The masker may derive more values from one secret (encodings); each is masked once.
      for (const v of masker.values())
        if (!masked.has(v)) {
          masked.add(v);
          // Straight to the runner, never held back in a buffered group: it must mask from now on.
          process.stdout.write(workflowCommand('add-mask', undefined, v) + EOL);
        }
    },
    redact: clean,
    keep: services.keep && ((file) => services.keep!(file, env)),
  };
}

/** What an action may use on a runner beyond the protocol, given by its entry point. */
export interface RunnerServices {
  /** Keep a file beyond the job (see Runtime.keep); '' when the runner offers no way. */
  keep?: (file: string, env: NodeJS.ProcessEnv) => Promise<string>;
}

/** Run an action as the runner does; never throws, sets the exit code on failure. */
export async function runOnGitHub<F extends InputFields>(
  action: ActionDefinition<F>,
  env: NodeJS.ProcessEnv = process.env,
  services: RunnerServices = {},
): Promise<void> {
  const runtime = createGitHubRuntime(env, services);
  // A cancelled job: SIGINT, then SIGTERM ~7.5 s later. Stop, release, say so, exit non-zero.
  const removeHandlers = installCancelHandlers(runtime.log, (code) => {
    runtime.log.error(`${action.name} cancelled: its commands were stopped and what it held was released.`);
    process.exit(code);
  });
  try {
    applySecretsEnv(env, runtime.mask);
    const inputs = parseInputs(action.inputs, env, runtime);
    await action.run(inputs, runtime);
  } catch (caught) {
    // Cancelled: the signal handler reports it once, when what the run held is released.
    if (isCancelled()) return;
    // A GitHub API error the client's retries could not fix is the user's to act on (a token,
    // a permission), whichever action met it: one line, not an internal error.
    const err = apiFailure(caught);
    const { message, detail } = describeFailure(err);
    if (detail) runtime.log.debug(detail);
    // The exit code plus one error line; the file and line of a UserError become the annotation's.
    process.exitCode = 1;
    runtime.log.error(message, isUserError(err) ? err.location : undefined);
  } finally {
    removeHandlers();
  }
}

/** True when this module is the process's entry script (not imported by a test or local-action). */
export function isEntryPoint(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  return moduleUrl === new URL(`file://${entry}`).href || moduleUrl.endsWith(entry);
}
