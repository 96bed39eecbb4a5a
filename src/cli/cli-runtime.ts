/** The Runtime for the terminal: readable logs on stderr, outputs kept for printing at the end. */
import { outputString, type Annotation, type Runtime } from '../core/runtime.js';
import { SecretMasker } from '../core/secrets.js';
import type { Terminal } from './terminal.js';

/** A terminal Runtime and what it collected. */
export interface CliRuntime extends Runtime {
  readonly outputs: Record<string, string>;
  readonly summaries: string[];
}

function where(a?: Annotation): string {
  if (!a?.file) return '';
  return `${a.file}${a.line ? `:${a.line}${a.column ? `:${a.column}` : ''}` : ''}: `;
}

/** Build a Runtime printing to `term`; `verbose` shows debug lines; `quiet` hides info lines. */
export function createCliRuntime(
  term: Terminal,
  options: { cwd: string; env?: NodeJS.ProcessEnv; verbose?: boolean; quiet?: boolean },
): CliRuntime {
  const masker = new SecretMasker();
  const outputs: Record<string, string> = {};
  const summaries: string[] = [];
  const clean = (t: string) => masker.redact(t);
  let depth = 0;
  const indent = () => '  '.repeat(depth);
  return {
    outputs,
    summaries,
    env: options.env ?? process.env,
    cwd: options.cwd,
    log: {
      info: (m) => {
        if (!options.quiet) term.line(`${indent()}${clean(m)}`);
      },
      debug: (m) => {
        if (options.verbose) term.line(term.color('dim', `${indent()}${clean(m)}`));
      },
      warning: (m, a) => term.line(`${indent()}${term.color('yellow', 'warning:')} ${where(a)}${clean(m)}`),
      error: (m, a) => term.line(`${indent()}${term.color('red', 'error:')} ${where(a)}${clean(m)}`),
      notice: (m, a) => term.line(`${indent()}${term.color('cyan', 'notice:')} ${where(a)}${clean(m)}`),
      async group(name, fn) {
        if (options.quiet) return fn();
        term.line(`${indent()}${term.color('bold', `▸ ${clean(name)}`)}`);
        const stop = term.tty ? term.progress(clean(name)) : () => undefined;
        depth++;
        try {
          return await fn();
        } finally {
          stop();
          depth--;
        }
      },
    },
    setOutput(name, value) {
      outputs[name] = clean(outputString(value));
    },
    async summary(markdown) {
      summaries.push(clean(markdown));
    },
    mask: (s) => masker.add(s),
    redact: clean,
  };
}
