/**
 * Secrets a deploy never heard of: a workflow may hand a deploy command a credential through
 * a plain `env:` (`DEPLOY_TOKEN: ${{ secrets.DEPLOY_TOKEN }}`) instead of naming it in the
 * policy file or SLIPWAY_SECRETS. The runner hides it in the log, but nothing hides it in
 * what deploy sends elsewhere — the deployment's description on GitHub, the ledger, a
 * notification — when a failing command prints it. So the values of variables whose names
 * say "credential", and the password of any URL in the environment, are masked like the
 * policy's secrets before any command runs.
 */
import type { Runtime } from '../core/runtime.js';

/** Names that hold credentials: TOKEN, SECRET, PASSWORD, PASSWD, PASSPHRASE, CREDENTIAL(S), or a KEY word (API_KEY, APIKEY, SSH_KEY, KEY_ID). */
const CREDENTIAL_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|(?:^|_)[A-Z0-9]*KEYS?(?:_|$)/i;
/** …unless the variable names where a credential is, not the credential itself. */
const LOCATION_NAME = /_(?:FILE|PATH|DIR|SOCK)$/i;
/** Values too plain to be a credential, which masking would only blot out of every line. */
const PLAIN_VALUE = /^(?:true|false|yes|no|on|off|null|none|\d+)$/i;
/** The shortest value masked by name: shorter ones are words and flags, not credentials. */
const MIN_LENGTH = 6;

/** True when `name=value` looks like a credential by its name. */
function isCredentialVariable(name: string, value: string): boolean {
  const v = value.trim();
  return CREDENTIAL_NAME.test(name) && !LOCATION_NAME.test(name) && v.length >= MIN_LENGTH && !PLAIN_VALUE.test(v);
}

/** True when `value` is a URL with a password in it (a database URL, say). */
function hasUrlPassword(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/@\s:]*:[^/@\s]+@/i.test(value.trim());
}

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
      for (const line of value.split(/\r?\n/)) if (line.trim().length >= MIN_LENGTH) rt.mask(line.trim());
      names.push(name);
    } else if (hasUrlPassword(value)) {
      // The masker adds the URL's password (plain and percent-decoded) with the URL.
      rt.mask(value);
      names.push(name);
    }
  }
  return names.sort();
}
