/**
 * Which environment variables hold credentials, by their names and values: one rule for what
 * deploy masks of the environment and for the `${NAME}` values the checks mask.
 */
/** Names that hold credentials: TOKEN, SECRET, PASSWORD, PASSWD, PASSPHRASE, CREDENTIAL(S), or a KEY word (API_KEY, APIKEY, SSH_KEY, KEY_ID). */
const CREDENTIAL_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|(?:^|_)[A-Z0-9]*KEYS?(?:_|$)/i;
/** …unless the variable names where a credential is, not the credential itself. */
const LOCATION_NAME = /_(?:FILE|PATH|DIR|SOCK)$/i;
/** Values too plain to be a credential, which masking would only blot out of every line. */
const PLAIN_VALUE = /^(?:true|false|yes|no|on|off|null|none|\d+)$/i;
/** The shortest value masked by name: shorter ones are words and flags, not credentials. */
export const MIN_CREDENTIAL_LENGTH = 6;

/** True when `name=value` looks like a credential by its name. */
export function isCredentialVariable(name: string, value: string): boolean {
  const v = value.trim();
  return (
    CREDENTIAL_NAME.test(name) && !LOCATION_NAME.test(name) && v.length >= MIN_CREDENTIAL_LENGTH && !PLAIN_VALUE.test(v)
  );
}

/** True when `value` is a URL with a password in it (a database URL, say). */
export function hasUrlPassword(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/@\s:]*:[^/@\s]+@/i.test(value.trim());
}
