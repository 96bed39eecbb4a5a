/**
 * Turns checks into what a run needs: relative URLs joined to the base URL, `${NAME}`
 * placeholders and `{ env: NAME }` connection strings read from the environment, and every
 * secret among them registered with the runtime's masker before anything is logged.
 */
import { hasUrlPassword, isCredentialVariable } from '../core/credential-name.js';
import { UserError } from '../core/errors.js';
import { splitCredentials } from '../core/url-credentials.js';
import type { Runtime } from '../core/runtime.js';
import { isPort, urlPort } from './parse.js';
import type { Check } from './types.js';

/** A check with its values filled in from the environment. */
export type ResolvedCheck = Check & {
  /** The target as shown to users: secrets replaced by ***. */
  target: string;
  /** The connection URL of a postgres or redis check. */
  connection?: string;
};

const SENSITIVE = /auth|token|secret|password|passwd|key|cookie|session|signature|credential/i;

/** Resolve and mask every check; a missing variable or base URL is a UserError naming the check. */
export function resolveChecks(
  checks: readonly Check[],
  opts: { baseUrl?: string; env: NodeJS.ProcessEnv },
  rt: Pick<Runtime, 'mask' | 'redact'>,
): ResolvedCheck[] {
  return checks.map((c) => resolveOne(c, opts, rt));
}

function resolveOne(
  c: Check,
  opts: { baseUrl?: string; env: NodeJS.ProcessEnv },
  rt: Pick<Runtime, 'mask' | 'redact'>,
) {
  const fail = (msg: string) => new UserError(`check "${c.name}": ${msg}`);
  const expand = (text: string) =>
    text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const v = opts.env[name];
      if (v === undefined || v === '')
        throw fail(`\${${name}} is used but the environment variable ${name} is not set`);
      // Only a credential, by deploy's rule for the environment: masking a path or a host
      // (BOT_PATH=health) would rewrite every "health" in the outputs a later step reads. A
      // value in a credential's place is masked where it lands (a sensitive header, a URL's
      // password or key), and the runner masks the GitHub secrets passed in env: whatever
      // their names.
      if (isCredentialVariable(name, v) || hasUrlPassword(v)) rt.mask(v);
      return v;
    });
  const headersOf = (h: Record<string, string>) => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(h)) {
      out[k] = expand(v);
      if (SENSITIVE.test(k)) {
        rt.mask(out[k]);
        // "Bearer <token>": the token alone must be hidden too, wherever it shows up.
        for (const part of out[k].split(/\s+/)) rt.mask(part.length >= 8 ? part : undefined);
      }
    }
    return out;
  };
  switch (c.kind) {
    case 'http':
    case 'websocket': {
      const withCredentials = maskUrl(absolute(expand(c.url), c.kind, opts.baseUrl, fail), rt);
      const { url, authorization } = splitCredentials(withCredentials);
      const headers = headersOf(c.headers);
      if (authorization && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) {
        rt.mask(authorization.slice('Basic '.length));
        headers.authorization = authorization;
      }
      const shown = { name: rt.redact(c.name), target: rt.redact(withCredentials) };
      if (c.kind === 'http') {
        const body = c.body === undefined ? undefined : expand(c.body);
        return { ...c, ...shown, url, headers, body };
      }
      const send = c.send === undefined ? undefined : expand(c.send);
      return { ...c, ...shown, url, headers, send };
    }
    case 'tcp':
      return { ...c, name: rt.redact(c.name), target: `${c.host.includes(':') ? `[${c.host}]` : c.host}:${c.port}` };
    case 'postgres':
    case 'redis': {
      const value = opts.env[c.env];
      if (value === undefined || value.trim() === '')
        throw fail(
          `${c.kind}.env: the environment variable ${c.env} is not set (expected a ${c.kind === 'redis' ? 'redis://' : 'postgres://'} URL)`,
        );
      rt.mask(value);
      // new URL refuses 99999 without naming the port, and takes 0, which no server listens on.
      const port = urlPort(value.trim());
      if (port !== null && !isPort(port))
        throw fail(`${c.kind}.env: ${c.env} holds a URL with port ${port}; expected a port from 1 to 65535`);
      const schemes = c.kind === 'redis' ? ['redis:', 'rediss:'] : ['postgres:', 'postgresql:'];
      let scheme = '';
      try {
        scheme = new URL(value.trim()).protocol;
      } catch {
        /* reported below */
      }
      if (!schemes.includes(scheme))
        throw fail(`${c.kind}.env: ${c.env} does not hold a ${schemes.map((s) => `${s}//`).join(' or ')} URL`);
      return { ...c, connection: value.trim(), target: c.env };
    }
  }
}

/** Join a relative URL to the base; WebSocket checks turn http(s) into ws(s). */
function absolute(
  url: string,
  kind: 'http' | 'websocket',
  baseUrl: string | undefined,
  fail: (m: string) => UserError,
) {
  let out = url;
  if (url.startsWith('/')) {
    if (!baseUrl)
      throw fail(
        `the relative URL ${url} needs a base URL: set the url input, or an environment with a url in the policy file`,
      );
    // "https://example.com/app" + "/health" → "https://example.com/app/health": the base's path is kept.
    out = baseUrl.replace(/\/+$/, '') + url;
    try {
      new URL(out);
    } catch {
      throw fail(`the base URL ${baseUrl} is not a URL`);
    }
  }
  if (kind === 'websocket') out = out.replace(/^http(s?):/i, 'ws$1:');
  return out;
}

/** Register the password and sensitive query values of a URL as secrets; returns the URL. */
function maskUrl(url: string, rt: Pick<Runtime, 'mask'>): string {
  try {
    const u = new URL(url);
    if (u.password) {
      rt.mask(u.password);
      rt.mask(decodeURIComponent(u.password));
    }
    for (const [k, v] of u.searchParams) if (SENSITIVE.test(k)) rt.mask(v);
  } catch {
    /* validated when parsed */
  }
  return url;
}
