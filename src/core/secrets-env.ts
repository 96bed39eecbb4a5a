/**
 * A step of a reusable workflow sees only the environment passed to it explicitly, so the
 * workflows hand every secret over as one variable, `SLIPWAY_SECRETS: ${{ toJSON(secrets) }}`,
 * and the actions turn it back into the variables the policy file names (DATABASE_URL,
 * webhook URLs, deploy tokens).
 */
import { UserError } from './errors.js';

/** The variable the reusable workflows set. */
export const SECRETS_VARIABLE = 'SLIPWAY_SECRETS';

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
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new UserError(
      `${SECRETS_VARIABLE}: expected a JSON object of secret names to values (as \${{ toJSON(secrets) }} writes it), but it is not valid JSON`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new UserError(
      `${SECRETS_VARIABLE}: expected a JSON object of secret names to values (as \${{ toJSON(secrets) }} writes it), got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`,
    );
  const entries = Object.entries(parsed as Record<string, unknown>).filter(
    (e): e is [string, string] => typeof e[1] === 'string',
  );
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
