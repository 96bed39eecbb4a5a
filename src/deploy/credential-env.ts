/**
 * Secrets a deploy never heard of: a workflow may hand a deploy command a credential through
 * a plain `env:` (`DEPLOY_TOKEN: ${{ secrets.DEPLOY_TOKEN }}`) instead of naming it in the
 * policy file or SLIPWAY_SECRETS. The runner hides it in the log, but nothing hides it in
 * what deploy sends elsewhere — the deployment's description on GitHub, the ledger, a
 * notification — when a failing command prints it. So the values of variables whose names
 * say "credential", and the password of any URL in the environment, are masked like the
 * policy's secrets before any command runs.
 */
import { hasUrlPassword, isCredentialVariable, MIN_CREDENTIAL_LENGTH } from '../core/credential-name.js';
import type { Runtime } from '../core/runtime.js';

/**
 * Mask the value of every environment variable named like a credential (each of its lines
 * too, for a private key), and every URL with a password; returns the names masked.
 */
export function maskCredentialVariables(rt: Pick<Runtime, 'env' | 'mask'>): string[] {
  const names: string[] = [];
  for (const [name, value] of Object.entries(rt.env)) {
    if (!value) continue;
    if (isCredentialVariable(name, value)) {
      rt.mask(value);
      for (const line of value.split(/\r?\n/)) if (line.trim().length >= MIN_CREDENTIAL_LENGTH) rt.mask(line.trim());
      names.push(name);
    } else if (hasUrlPassword(value)) {
      // The masker adds the URL's password (plain and percent-decoded) with the URL.
      rt.mask(value);
      names.push(name);
    }
  }
  return names.sort();
}
