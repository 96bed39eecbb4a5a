/** The Runtime for the terminal: readable logs on stderr, outputs kept for printing at the end. */
import { AsyncLocalStorage } from 'node:async_hooks';
import { outputString, type Annotation, type Runtime } from '../core/runtime.js';
import { SecretMasker } from '../core/secrets.js';
import type { ProgressStep, Terminal } from './terminal.js';

/** A terminal Runtime and what it collected. */
export interface CliRuntime extends Runtime {
  readonly outputs: Record<string, string>;
  readonly summaries: string[];
}

/** The annotation's place as a prefix, unless the message already starts with it (a lint finding). */
function where(a: Annotation | undefined, message: string): string {
  if (!a?.file) return '';
  const place = `${a.file}${a.line ? `:${a.line}${a.column ? `:${a.column}` : ''}` : ''}: `;
  return message.startsWith(place) ? '' : place;
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
  // The group a line belongs to follows the async call, so parallel groups nest correctly.
  const groups = new AsyncLocalStorage<{ step: ProgressStep; depth: number }>();
  const indent = () => '  '.repeat(groups.getStore()?.depth ?? 0);
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
      warning: (m, a) => term.line(`${indent()}${term.color('yellow', 'warning:')} ${where(a, m)}${clean(m)}`),
      error: (m, a) => term.line(`${indent()}${term.color('red', 'error:')} ${where(a, m)}${clean(m)}`),
      notice: (m, a) => term.line(`${indent()}${term.color('cyan', 'notice:')} ${where(a, m)}${clean(m)}`),
      async group(name, fn) {
        if (options.quiet) return fn();
        term.line(`${indent()}${term.color('bold', `▸ ${clean(name)}`)}`);
        const outer = groups.getStore();
        const step = term.step(clean(name), outer?.step);
        try {
          return await groups.run({ step, depth: (outer?.depth ?? 0) + 1 }, fn);
        } finally {
          step.end();
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
