/** Remembers secret values and removes them from any text before it is shown. */
export class SecretMasker {
  private readonly secrets = new Set<string>();

  /** Register a secret; URL credentials inside it (userinfo or query password) are registered too. */
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

  /** Replace every registered secret and every URL password (userinfo or query) in `text` with ***. */
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

/**
 * The connection options libpq itself treats as secrets (its password fields): a URL may carry
 * them as query parameters (`postgres://app@db/shop?password=…`), which `pg` and libpq both read.
 */
const QUERY_SECRETS = /[?&](?:ssl)?password=([^&#\s]*)/gi;

/** The passwords of a URL with credentials, in the userinfo or the query, as written and decoded. */
function urlCredentials(value: string): string[] {
  const out: string[] = [];
  const text = value.trim();
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/@\s]*)@/i.exec(text);
  const userinfo = m?.[1] ?? '';
  const colon = userinfo.indexOf(':');
  if (colon >= 0) out.push(...forms(userinfo.slice(colon + 1), false));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text))
    for (const q of text.matchAll(QUERY_SECRETS)) out.push(...forms(q[1], true));
  return out;
}

/**
 * A password as written and as the drivers decode it; a query value's `+` is a space to `pg`
 * (URLSearchParams), not to libpq, so both readings are secrets.
 */
function forms(raw: string, query: boolean): string[] {
  const out = new Set<string>([raw]);
  for (const text of query ? [raw, raw.replace(/\+/g, ' ')] : [raw]) {
    try {
      out.add(decodeURIComponent(text));
    } catch {
      /* not percent-encoded */
    }
  }
  return [...out].filter((s) => s.length >= 3);
}

/** Hide the password of any URL in `text`: `scheme://user:password@host`, and `?password=` / `&sslpassword=` in its query. */
export function redactUrlPasswords(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):([^@\s/]+)@/gi, '$1:***@')
    .replace(/([?&](?:ssl)?password=)[^&#\s]+/gi, '$1***');
}
