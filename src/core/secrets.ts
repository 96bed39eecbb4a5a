/** Remembers secret values and removes them from any text before it is shown. */
export class SecretMasker {
  private readonly secrets = new Set<string>();

  /** Register a secret; URL credentials inside it are registered too. */
  add(secret: string | undefined | null): void {
    if (!secret) return;
    const value = String(secret);
    if (value.length < 3) return;
    this.secrets.add(value);
    for (const part of urlCredentials(value)) this.secrets.add(part);
  }

  /** Every registered secret, longest first so overlapping ones are fully hidden. */
  values(): string[] {
    return [...this.secrets].sort((a, b) => b.length - a.length);
  }

  /** Replace every registered secret and every URL password in `text` with ***. */
  redact(text: string): string {
    let out = text;
    for (const s of this.values()) {
      if (out.includes(s)) out = out.split(s).join('***');
      const encoded = encodeURIComponent(s);
      if (encoded !== s && out.includes(encoded)) out = out.split(encoded).join('***');
    }
    return redactUrlPasswords(out);
  }
}

/** The password (and percent-decoded password) of a URL with credentials, if any. */
function urlCredentials(value: string): string[] {
  const out: string[] = [];
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/@\s]*)@/i.exec(value.trim());
  if (!m) return out;
  const userinfo = m[1];
  const colon = userinfo.indexOf(':');
  if (colon < 0) return out;
  const password = userinfo.slice(colon + 1);
  if (password.length >= 3) {
    out.push(password);
    try {
      const decoded = decodeURIComponent(password);
      if (decoded !== password && decoded.length >= 3) out.push(decoded);
    } catch {
      /* not percent-encoded */
    }
  }
  return out;
}

/** Hide the password part of any URL in `text` (scheme://user:password@host). */
export function redactUrlPasswords(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):([^@\s/]+)@/gi, '$1:***@');
}
