import { SecretMasker } from './secrets.js';
import { outputString, type Annotation, type Runtime } from './runtime.js';

/** One recorded log line of a MemoryRuntime. */
interface LogRecord {
  level: 'info' | 'debug' | 'warning' | 'error' | 'notice' | 'group';
  message: string;
  annotation?: Annotation;
}

/** A Runtime that keeps everything in memory, for tests and for composing actions. */
export interface MemoryRuntime extends Runtime {
  readonly outputs: Record<string, string>;
  readonly records: LogRecord[];
  readonly summaries: string[];
  /** Every log line joined, as a user would read it. */
  text(): string;
}

/** Build an in-memory Runtime; `echo` also prints each line (useful when debugging a test). */
export function createMemoryRuntime(
  options: { env?: NodeJS.ProcessEnv; cwd?: string; echo?: boolean } = {},
): MemoryRuntime {
  const masker = new SecretMasker();
  const outputs: Record<string, string> = {};
  const records: LogRecord[] = [];
  const summaries: string[] = [];
  const push = (level: LogRecord['level'], message: string, annotation?: Annotation) => {
    const clean = masker.redact(message);
    records.push({ level, message: clean, annotation });
    if (options.echo) process.stderr.write(`[${level}] ${clean}\n`);
  };
  return {
    outputs,
    records,
    summaries,
    env: options.env ?? process.env,
    cwd: options.cwd ?? process.cwd(),
    log: {
      info: (m) => push('info', m),
      debug: (m) => push('debug', m),
      warning: (m, a) => push('warning', m, a),
      error: (m, a) => push('error', m, a),
      notice: (m, a) => push('notice', m, a),
      async group(name, fn) {
        push('group', name);
        return fn();
      },
    },
    setOutput(name, value) {
      outputs[name] = masker.redact(outputString(value));
    },
    async summary(markdown) {
      summaries.push(masker.redact(markdown));
    },
    mask: (s) => masker.add(s),
    redact: (t) => masker.redact(t),
    text: () => records.map((r) => r.message).join('\n'),
  };
}
