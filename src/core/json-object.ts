/**
 * One parse for the inputs and variables that hold a JSON object (component → version,
 * version-bump's outputs, SLIPWAY_SECRETS), so each fails the same way, in one line.
 */
import { UserError } from './errors.js';

/** What a parsed JSON value is, for a message: "an array", "null", "a string"... */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/**
 * `text` as a JSON object; otherwise a UserError `<expected>, but it is not valid JSON` or
 * `<expected>, got an array` (never the text itself, which may hold a secret).
 */
export function parseJsonObject(text: string, expected: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UserError(`${expected}, but it is not valid JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new UserError(`${expected}, got ${kindOf(parsed)}`);
  return parsed as Record<string, unknown>;
}
