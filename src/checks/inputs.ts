/** Input fields of the check engine's actions: durations such as `90s` and an optional retry count. */
import { z } from 'zod';
import type { InputField } from '../core/inputs.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** Milliseconds of "500ms", "1.5s", "2m", "1h"; a bare number is seconds. Null when it is not a duration. */
function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?$/i.exec(text.trim());
  if (!m) return null;
  return Math.round(Number(m[1]) * UNITS[(m[2] ?? 's').toLowerCase()]);
}

/** A duration input, parsed to milliseconds. */
export function durationInput(description: string, def: string, minMs = 1): InputField<number> {
  const message = `expected a duration such as 500ms, 30s or 2m (a bare number is seconds) of at least ${minMs} ms`;
  return {
    description,
    default: def,
    schema: z
      .string()
      .transform((s) => parseDuration(s))
      .pipe(z.number({ message }).min(minMs, { message })),
  };
}

/** A retry count; empty or "unlimited" is null (until the deadline). */
export function retriesInput(description: string): InputField<number | null> {
  return {
    description,
    default: 'unlimited',
    schema: z
      .string()
      .regex(/^(\d+|unlimited)?$/i, { message: 'expected a whole number of retries, or unlimited' })
      .transform((s) => (s === '' || s.toLowerCase() === 'unlimited' ? null : Number(s))),
  };
}
