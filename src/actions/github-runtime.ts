/**
 * The Runtime over the GitHub runner, through @actions/core (logging, groups, masking,
 * outputs, the summary, annotations), and the one function every entry point calls: parse
 * the inputs, run the action, and turn any failure into a one-line `::error::`. What this
 * adds to @actions/core is the grouping GitHub's log viewer needs (groupedLog).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { EOL } from 'node:os';
import * as core from '@actions/core';
import { installCancelHandlers, isCancelled } from '../core/cancel.js';
import { describeFailure, isUserError } from '../core/errors.js';
import { parseInputs, type ActionDefinition, type InputFields } from '../core/inputs.js';
import { outputString, type Annotation, type Runtime } from '../core/runtime.js';
import { SecretMasker } from '../core/secrets.js';
import { applySecretsEnv } from '../core/secrets-env.js';
import { apiFailure } from '../github/errors.js';

function annotationProps(a?: Annotation): core.AnnotationProperties | undefined {
  if (!a) return undefined;
  return { title: a.title, file: a.file, startLine: a.line, startColumn: a.column };
}

/** Where the grouped log prints: a line, a group's start and its end. */
export interface Printer {
  line(text: string): void;
  open(name: string): void;
  close(): void;
}

/**
 * Where a log entry goes. GitHub's log viewer folds one level of `::group::` and nothing
 * interleaved, so groups are kept whole and flat: the first group opened is printed live;
 * a group opened inside it becomes a heading line inside it (live too, unless a sibling is
 * already live); a group opened while another one at its level is live (parallel work) is
 * buffered and printed whole when the live one has ended. Which group an entry belongs to is
 * the async context it is logged from. An entry is what to print, run when its turn comes.
 */
interface Sink {
  write(entry: () => void): void;
  /** The child group printing live into this sink, if any. */
  live: Sink | null;
  /** Whole blocks of buffered children that ended while another child was live. */
  waiting: (() => void)[][];
}

function flush(sink: Sink): void {
  for (const block of sink.waiting.splice(0)) for (const entry of block) sink.write(entry);
}

/** Group and entry routing over `printer` (@actions/core on a runner). */
export function groupedLog(printer: Printer) {
  const root: Sink = { write: (entry) => entry(), live: null, waiting: [] };
  const context = new AsyncLocalStorage<Sink>();
  const current = () => context.getStore() ?? root;
  return {
    line: (text: string) => current().write(() => printer.line(text)),
    /** Anything else printed in the group's order: an annotation, a debug line. */
    entry: (print: () => void) => current().write(print),
    async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
      const parent = current();
      const top = parent === root;
      const open = top ? () => printer.open(name) : () => printer.line(`── ${name.replace(/\r?\n/g, ' ')}`);
      const close = top ? [() => printer.close()] : [];
      if (parent.live === null) {
        const me: Sink = { write: (e) => parent.write(e), live: null, waiting: [] };
        parent.live = me;
        parent.write(open);
        try {
          return await context.run(me, fn);
        } finally {
          flush(me);
          for (const e of close) parent.write(e);
          parent.live = null;
          flush(parent);
        }
      }
      const entries: (() => void)[] = [];
      const me: Sink = { write: (e) => entries.push(e), live: null, waiting: [] };
      try {
        return await context.run(me, fn);
      } finally {
        flush(me);
        const block = [open, ...entries, ...close];
        if (parent.live === null) for (const e of block) parent.write(e);
        else parent.waiting.push(block);
      }
    },
  };
}

/**
 * Print `text` as plain log lines. The runner reads any line that starts with `::` (after
 * blanks) as a workflow command, and a log line may carry a file name or a command's output
 * (a pull request's author chooses both): such text is printed between stop-commands markers
 * with a token it cannot contain, so it never issues a command.
 */
function plainInfo(text: string): void {
  if (!/^\s*::/m.test(text)) return core.info(text);
  const token = randomUUID();
  core.info(`::stop-commands::${token}`);
  core.info(text);
  core.info(`::${token}::`);
}

/** What an action may use on a runner beyond the protocol, given by its entry point. */
export interface RunnerServices {
  /** Keep a file beyond the job (see Runtime.keep); '' when the runner offers no way. */
  keep?: (file: string, env: NodeJS.ProcessEnv) => Promise<string>;
}

/** A Runtime on the GitHub runner: @actions/core for every part of the protocol; the environment is the process's. */
export function createGitHubRuntime(services: RunnerServices = {}): Runtime {
  const env = process.env;
  const grouped = groupedLog({
    line: plainInfo,
    open: (n) => core.startGroup(n),
    close: () => core.endGroup(),
  });
  const masker = new SecretMasker();
  const clean = (t: string) => masker.redact(t);
  const masked = new Set<string>();
  return {
    env,
    cwd: env.GITHUB_WORKSPACE || process.cwd(),
    log: {
      info: (m) => grouped.line(clean(m)),
      debug: (m) => grouped.entry(() => core.debug(clean(m))),
      warning: (m, a) => grouped.entry(() => core.warning(clean(m), annotationProps(a))),
      error: (m, a) => grouped.entry(() => core.error(clean(m), annotationProps(a))),
      notice: (m, a) => grouped.entry(() => core.notice(clean(m), annotationProps(a))),
      group: (name, fn) => grouped.group(clean(name), fn),
    },
    setOutput(name, value) {
      core.setOutput(name, clean(outputString(value)));
    },
    async summary(markdown) {
      // Outside a runner (a local run) there is no summary file, and @actions/core would throw.
      if (!env.GITHUB_STEP_SUMMARY) return;
      await core.summary.addRaw(clean(markdown) + EOL).write();
    },
    mask(secret) {
      if (!secret) return;
      masker.add(secret);
      // The masker may derive more values from one secret (encodings); each is masked once,
      // straight to the runner, never held back in a buffered group: it must mask from now on.
      for (const v of masker.values())
        if (!masked.has(v)) {
          masked.add(v);
          core.setSecret(v);
        }
    },
    redact: clean,
    keep: services.keep && ((file) => services.keep!(file, env)),
  };
}

/** Run an action as the runner does; never throws, sets the exit code on failure. */
export async function runOnGitHub<F extends InputFields>(
  action: ActionDefinition<F>,
  services: RunnerServices = {},
): Promise<void> {
  const env = process.env;
  const runtime = createGitHubRuntime(services);
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
