/**
 * A step of a reusable workflow sees only the environment passed to it explicitly, and a
 * reusable workflow cannot know the names of its caller's secrets; so the user keeps the
 * variables their commands need in one secret, SLIPWAY_SECRETS (a JSON object, or NAME=value
 * lines), the workflows hand it only to the steps that run those commands, and the actions
 * turn it back into the variables the policy file names (DATABASE_URL, webhook URLs, deploy
 * tokens).
 */
import { UserError } from './errors.js';
import { parseJsonObject } from './json-object.js';

/** The variable the reusable workflows set. */
const SECRETS_VARIABLE = 'SLIPWAY_SECRETS';

// The runner's own token reaches the actions through their `token` input; a secret named
// github_token in the bundle would otherwise shadow GITHUB_TOKEN set for the step.
const SKIPPED = new Set(['github_token']);

/**
 * Mask every value of SLIPWAY_SECRETS, then set each as an environment variable that is not
 * already set; removes SLIPWAY_SECRETS from `env`. Returns the names it set.
 */
export function applySecretsEnv(env: NodeJS.ProcessEnv, mask: (secret: string) => void): string[] {
  const raw = env[SECRETS_VARIABLE];
  if (raw === undefined) return [];
  delete env[SECRETS_VARIABLE];
  if (!raw.trim()) return [];
  // Masked before parsing: if the text is malformed, no part of it may reach a log line.
  mask(raw);
  const entries = /^\s*[[{"]/.test(raw) ? jsonEntries(raw) : lineEntries(raw);
  // Every value is masked before any is set, so nothing logged while setting can show one.
  for (const [, value] of entries) mask(value);
  const set: string[] = [];
  for (const [name, value] of entries) {
    if (SKIPPED.has(name.toLowerCase()) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) continue;
    if (env[name] !== undefined) continue;
    env[name] = value;
    set.push(name);
  }
  return set;
}

const EXPECTED = `${SECRETS_VARIABLE}: expected a JSON object of secret names to values, or NAME=value lines`;

/** The string values of a JSON object (as `${{ toJSON(secrets) }}` writes one). */
function jsonEntries(raw: string): [string, string][] {
  return Object.entries(parseJsonObject(raw, EXPECTED)).filter((e): e is [string, string] => typeof e[1] === 'string');
}

/** NAME=value lines (blank lines and # comments skipped; one pair of surrounding quotes removed). */
function lineEntries(raw: string): [string, string][] {
  const entries: [string, string][] = [];
  raw.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim() || line.trimStart().startsWith('#')) return;
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(line);
    // The line number only: the line itself may hold a secret.
    if (!m) throw new UserError(`${EXPECTED}; line ${i + 1} is neither`);
    const value = m[2].trim();
    const quoted = /^(["'])(.*)\1$/.exec(value);
    entries.push([m[1], quoted ? quoted[2] : value]);
  });
  return entries;
}
