/**
 * The small surface domain code uses to talk to whoever runs it: the GitHub runner
 * (src/actions/github-runtime.ts), the terminal (src/cli/cli-runtime.ts) or a test
 * (createMemoryRuntime). Domain code never imports @actions/*.
 */
import type { ErrorLocation } from './errors.js';

/** Where an annotation points. */
export interface Annotation extends ErrorLocation {
  title?: string;
}

/** Logging with collapsible groups and annotations. */
export interface Logger {
  info(message: string): void;
  debug(message: string): void;
  warning(message: string, annotation?: Annotation): void;
  error(message: string, annotation?: Annotation): void;
  notice(message: string, annotation?: Annotation): void;
  /** Run `fn` with its log folded under `name`. */
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

/** What every action and domain receives. */
export interface Runtime {
  readonly log: Logger;
  /** Set an output; non-string values are written as JSON. */
  setOutput(name: string, value: unknown): void;
  /** Append markdown to the job summary. */
  summary(markdown: string): Promise<void>;
  /** Register a secret so it never appears in a log line, output or summary. */
  mask(secret: string | undefined): void;
  /** Hide every registered secret in `text`. */
  redact(text: string): string;
  /** The environment the action runs in (GITHUB_*, RUNNER_*, the user's variables). */
  readonly env: NodeJS.ProcessEnv;
  /** The repository's working directory. */
  readonly cwd: string;
  /**
   * Keep a file beyond this job and say where (on a runner: an artifact of the run, since
   * RUNNER_TEMP goes with the job); absent where files outlive the run anyway (the CLI).
   */
  readonly keep?: (file: string) => Promise<string>;
}

/** The string form of an output value, as runners store it. */
export function outputString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (value === undefined || value === null) return '';
  return JSON.stringify(value);
}

/**
 * `rt` with each log line passed through `rewrite` first: a step that works through a
 * temporary name (a forwarded socket) logs the name its reader knows instead.
 */
export function rewritingLog(rt: Runtime, rewrite: (text: string) => string): Runtime {
  const log: Logger = {
    info: (message) => rt.log.info(rewrite(message)),
    debug: (message) => rt.log.debug(rewrite(message)),
    warning: (message, annotation) => rt.log.warning(rewrite(message), annotation),
    error: (message, annotation) => rt.log.error(rewrite(message), annotation),
    notice: (message, annotation) => rt.log.notice(rewrite(message), annotation),
    group: (name, fn) => rt.log.group(rewrite(name), fn),
  };
  return withLog(rt, log);
}

/** `rt` with another logger: everything else (outputs, masking, env) is `rt`'s own. */
export function withLog(rt: Runtime, log: Logger): Runtime {
  return {
    log,
    setOutput: (name, value) => rt.setOutput(name, value),
    summary: (markdown) => rt.summary(markdown),
    mask: (secret) => rt.mask(secret),
    redact: (text) => rt.redact(text),
    get env() {
      return rt.env;
    },
    get cwd() {
      return rt.cwd;
    },
    keep: rt.keep,
  };
}
