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

const issue = (name: string, properties: Record<string, string | number | undefined> | undefined, message: string) =>
  process.stdout.write(workflowCommand(name, properties, message) + EOL);

/** A Runtime that writes to the GitHub runner: workflow commands on stdout, file commands for outputs and the summary. */
export function createGitHubRuntime(env: NodeJS.ProcessEnv = process.env): Runtime {
  const masker = new SecretMasker();
  const clean = (t: string) => masker.redact(t);
  const masked = new Set<string>();
  return {
    env,
    cwd: env.GITHUB_WORKSPACE || process.cwd(),
    log: {
      info: (m) => process.stdout.write(clean(m) + EOL),
      debug: (m) => issue('debug', undefined, clean(m)),
      warning: (m, a) => issue('warning', annotationProps(a), clean(m)),
      error: (m, a) => issue('error', annotationProps(a), clean(m)),
      notice: (m, a) => issue('notice', annotationProps(a), clean(m)),
      async group(name, fn) {
        issue('group', undefined, clean(name));
        try {
          return await fn();
        } finally {
          issue('endgroup', undefined, '');
        }
      },
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
          issue('add-mask', undefined, v);
        }
    },
    redact: clean,
  };
}

/** Run an action as the runner does; never throws, sets the exit code on failure. */
export async function runOnGitHub<F extends InputFields>(
  action: ActionDefinition<F>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const runtime = createGitHubRuntime(env);
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
