/**
 * Action inputs: each action declares its inputs once (name, description, default, and a
 * zod schema over the raw string); the runner's `INPUT_*` variables, or the CLI's flags,
 * become a typed object. A test checks every action.yml against these declarations.
 */
import { z } from 'zod';
import { UserError } from './errors.js';
import type { Runtime } from './runtime.js';

/** One declared input. */
export interface InputField<T> {
  description: string;
  /** The action.yml default, applied when the input is empty. */
  default?: string;
  required?: boolean;
  /** Masked as soon as it is read. */
  secret?: boolean;
  schema: z.ZodType<T, string>;
}

/** Declared inputs by name (kebab-case). */
export type InputFields = Record<string, InputField<unknown>>;

/** The typed object an action receives: kebab-case names become camelCase keys. */
export type ParsedInputs<F extends InputFields> = {
  [K in keyof F as CamelCase<K & string>]: F[K] extends InputField<infer T> ? T : never;
};

type CamelCase<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<CamelCase<T>>}` : S;

/** An action: its declared inputs and outputs and the function that does its work. */
export interface ActionDefinition<F extends InputFields = InputFields> {
  name: string;
  description: string;
  inputs: F;
  /** Output name → description. */
  outputs: Record<string, string>;
  run(inputs: ParsedInputs<F>, runtime: Runtime): Promise<void>;
}

/** Declare an action (keeps the input types). */
export function defineAction<F extends InputFields>(def: ActionDefinition<F>): ActionDefinition<F> {
  return def;
}

/** The runner's variable for an input: `INPUT_` + upper-cased name, spaces as underscores. */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

/** Read and validate every declared input from `env`; the first bad one is a one-line UserError. */
export function parseInputs<F extends InputFields>(
  fields: F,
  env: NodeJS.ProcessEnv,
  runtime?: Runtime,
): ParsedInputs<F> {
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(fields)) {
    let raw = (env[inputVariable(name)] ?? '').trim();
    if (field.secret && raw) runtime?.mask(raw);
    // A runner expression default (`${{ github.token }}`) is only evaluated by the runner;
    // elsewhere (the CLI, a test) it means "not given".
    if (raw === '' && field.default !== undefined && !field.default.startsWith('${{')) raw = field.default;
    if (raw === '' && field.required) throw new UserError(`input "${name}" is required: ${field.description}`);
    const result = field.schema.safeParse(raw);
    if (!result.success) {
      const shown = field.secret ? '***' : JSON.stringify(raw.length > 80 ? `${raw.slice(0, 77)}...` : raw);
      const issue = result.error.issues[0];
      throw new UserError(`input "${name}": ${issue.message.replace(/^Invalid input: /, '')}, got ${shown}`);
    }
    out[camel(name)] = result.data;
  }
  return out as ParsedInputs<F>;
}

function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Field builders: each returns an InputField over the raw string. */
export const input = {
  string(
    description: string,
    opts: { default?: string; required?: boolean; secret?: boolean } = {},
  ): InputField<string> {
    return { description, ...opts, schema: z.string() };
  },
  boolean(description: string, def: 'true' | 'false'): InputField<boolean> {
    return {
      description,
      default: def,
      schema: z
        .string()
        .transform((s) => s.toLowerCase())
        .pipe(z.enum(['true', 'false'], { message: 'expected true or false' }))
        .transform((s) => s === 'true'),
    };
  },
  /** A boolean that may also be `auto` (undefined). */
  tristate(description: string): InputField<boolean | 'auto'> {
    return {
      description,
      default: 'auto',
      schema: z
        .string()
        .transform((s) => s.toLowerCase())
        .pipe(z.enum(['auto', 'true', 'false'], { message: 'expected auto, true or false' }))
        .transform((s) => (s === 'auto' ? 'auto' : s === 'true')),
    };
  },
  integer(description: string, def: string, min = 0): InputField<number> {
    return {
      description,
      default: def,
      schema: z
        .string()
        .regex(/^\d+$/, { message: `expected a whole number of at least ${min}` })
        .transform(Number)
        .pipe(z.number().min(min, { message: `expected a whole number of at least ${min}` })),
    };
  },
  choice<const T extends readonly [string, ...string[]]>(
    description: string,
    values: T,
    def: T[number],
  ): InputField<T[number]> {
    return {
      description,
      default: def,
      schema: z
        .string()
        .transform((s) => s.toLowerCase())
        .pipe(z.enum(values, { message: `expected one of ${values.join(', ')}` })),
    };
  },
  semver(description: string, opts: { required?: boolean; default?: string } = {}): InputField<string> {
    return {
      description,
      ...opts,
      schema: z
        .string()
        .transform((s) => s.replace(/^v(?=\d)/, ''))
        .refine((s) => s === '' || /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(s), {
          message: 'expected a semantic version such as 1.2.3 or 1.2.3-rc.1',
        }),
    };
  },
};

/** The inputs every action shares. */
export const commonInputs = {
  config: input.string(
    'Path of the policy file, relative to the repository. Empty: .github/slipway.yml, and defaults when that file does not exist.',
  ),
  'dry-run': input.boolean('Plan and print what would happen; change nothing.', 'false'),
};
