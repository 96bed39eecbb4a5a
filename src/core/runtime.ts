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
