/**
 * HTTP(S) checks over node:http and node:https rather than fetch: undici takes tens of
 * milliseconds to load and more CPU per request, which shows at hundreds of checks. What
 * fetch would do is kept: redirects followed (301/302/303/307/308, at most 20, a POST
 * turned into a GET where fetch does so, credentials dropped when the origin changes),
 * gzip/deflate/br bodies decoded, and the attempt's signal as the timeout of the whole
 * exchange, redirects and body included.
 */
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { HttpCheck } from '../types.js';
import type { ResolvedCheck } from '../resolve.js';
import { networkError, ProbeError, msSince, type AttemptContext, type Observation } from './probe.js';

/** The scheme of a base URL naming a Unix socket: `http+unix://%2Frun%2Fapp.sock`. */
const UNIX_PROTOCOL = 'http+unix:';

/** The base URL of a server address: `host:port`, or `unix:/path.sock` (a socket). */
export function addressBaseUrl(address: string): string {
  if (address.startsWith('unix:')) return `http+unix://${encodeURIComponent(address.slice('unix:'.length))}`;
  return `http://${address}`;
}

/** fetch's bound on redirects. */
const MAX_REDIRECTS = 20;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

// Idle connections are reused across attempts and checks, as fetch's pool does; the agents
// unref idle sockets, so they never keep the process alive. An idle socket is closed after
// 4 s, before the keep-alive timeout of common servers (node 5 s, load balancers 60 s), so
// a reused socket is rarely one the server is closing.
// With NODE_USE_ENV_PROXY=1, node 24's fetch goes through HTTP(S)_PROXY; an agent of one's own
// only does when handed the environment (`proxyEnv`, node ≥ 24.5; older nodes ignore it).
const agentOptions = {
  keepAlive: true,
  timeout: 4_000,
  ...(process.env.NODE_USE_ENV_PROXY ? { proxyEnv: process.env } : {}),
};
const agents = {
  'http:': new http.Agent(agentOptions),
  'https:': new https.Agent(agentOptions),
};

// Methods a client may send again when a reused connection turned out closed (RFC 9110 9.2.2).
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

const decoders: Record<string, (b: Buffer) => Promise<Buffer>> = {
  gzip: promisify(zlib.gunzip),
  'x-gzip': promisify(zlib.gunzip),
  br: promisify(zlib.brotliDecompress),
  // "deflate" is meant to be zlib-wrapped, but some servers send it raw; fetch accepts both.
  deflate: (b) => ((b[0] & 0x0f) === 8 ? promisify(zlib.inflate)(b) : promisify(zlib.inflateRaw)(b)),
};

interface Request {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request, redirects followed; the latency runs until the final body has been read. */
export async function probeHttp(check: HttpCheck & ResolvedCheck, ctx: AttemptContext): Promise<Observation> {
  const start = performance.now();
  let req: Request = {
    url: new URL(check.url),
    method: check.method.toUpperCase(),
    headers: withDefaults(check.headers),
    body: check.body,
  };
  const visited: string[] = [];
  try {
    for (;;) {
      const answer = await exchangeFresh(req, ctx.signal);
      const location = answer.headers.location;
      if (!REDIRECTS.has(answer.status) || !location) return observe(answer, start);
      visited.push(`${answer.status} ${req.url.href}`);
      if (visited.length > MAX_REDIRECTS)
        throw new ProbeError(
          `more than ${MAX_REDIRECTS} redirects (${visited[0]} → … → ${answer.status} ${req.url.href} → ${location})`,
          false,
        );
      req = redirected(req, answer.status, location);
    }
  } catch (err) {
    if (err instanceof ProbeError) throw err;
    const code = (err as { code?: string }).code;
    // node:http refuses to send it (a line break in a header value, often a secret read with
    // its trailing newline): no attempt will ever go out, so waiting for the deadline is pointless.
    if (code === 'ERR_INVALID_CHAR' || code === 'ERR_INVALID_HTTP_TOKEN')
      throw new ProbeError(`the request cannot be sent: ${(err as Error).message} [${code}] (${check.target})`, false);
    throw networkError(err, ctx, check.target);
  }
}

/** The request a redirect leads to, with fetch's rules for the method, body and credentials. */
function redirected(req: Request, status: number, location: string): Request {
  let url: URL;
  try {
    url = new URL(location, req.url);
  } catch {
    throw new ProbeError(`a ${status} redirect to ${JSON.stringify(location)}, which is not a URL`, false);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ProbeError(`a ${status} redirect to ${url.protocol}, which is not http(s) (${url.href})`, false);
  let { method, body } = req;
  const headers = { ...req.headers };
  // fetch: 303 turns anything but HEAD into GET; 301/302 turn a POST into GET. The body goes with it.
  if (
    (status === 303 && method !== 'GET' && method !== 'HEAD') ||
    ((status === 301 || status === 302) && method === 'POST')
  ) {
    method = 'GET';
    body = undefined;
    for (const h of Object.keys(headers))
      if (/^content-(type|length|encoding|language|location)$/i.test(h)) delete headers[h];
  }
  // Credentials meant for one origin are not handed to another.
  if (url.origin !== req.url.origin)
    for (const h of Object.keys(headers))
      if (/^(authorization|cookie|proxy-authorization)$/i.test(h)) delete headers[h];
  return { url, method, headers, body };
}

/**
 * One request; when a kept-alive connection turns out to have been closed by the server
 * before answering, an idempotent request is sent once more on a new connection, as browsers
 * do: a race between the pool and the server's idle timeout is no verdict on the service.
 */
async function exchangeFresh(req: Request, signal: AbortSignal): Promise<Answer> {
  try {
    return await exchange(req, signal);
  } catch (err) {
    const e = err as Error & { code?: string; reusedSocket?: boolean };
    if (!e.reusedSocket || signal.aborted || !IDEMPOTENT.has(req.method)) throw err;
    if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') throw err;
    return exchange(req, signal, false);
  }
}

/** One request and its whole (raw) body. */
function exchange(req: Request, signal: AbortSignal, reuse = true): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const transport = req.url.protocol === 'https:' ? https : http;
    const headers = { ...req.headers };
    if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
    let answered = false;
    // http+unix://<socket path, percent-encoded>/path: a server on a Unix socket (a deploy slot).
    const unix = req.url.protocol === UNIX_PROTOCOL;
    const options: http.RequestOptions = {
      method: req.method,
      headers: unix ? { host: 'localhost', ...headers } : headers,
      // A retry after a closed kept-alive connection gets a connection of its own.
      agent: reuse && !unix ? agents[req.url.protocol as 'http:' | 'https:'] : false,
      signal,
    };
    const onResponse = (res: http.IncomingMessage) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
      // Closed before the end (a reset, or the attempt's signal): never leave the attempt hanging.
      res.on('close', () => {
        if (!res.complete) reject(Object.assign(new Error('the connection closed mid-body'), { code: 'ECONNRESET' }));
      });
    };
    const r = unix
      ? http.request(
          { ...options, socketPath: decodeURIComponent(req.url.host), path: req.url.pathname + req.url.search },
          onResponse,
        )
      : transport.request(req.url, options, onResponse);
    // Only an error before any answer came on a reused connection may be sent again.
    r.on('error', (err) => reject(Object.assign(err, { reusedSocket: r.reusedSocket && !answered })));
    r.end(req.body);
  });
}

/** The observation of a final answer: headers as single strings, the body decoded and read as UTF-8. */
async function observe(answer: Answer, start: number): Promise<Observation> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(answer.headers))
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  let body = answer.body;
  const encodings = (headers['content-encoding'] ?? '')
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e && e !== 'identity');
  // Encodings are listed in the order applied, so they come off last first.
  for (const enc of encodings.reverse()) {
    const decode = decoders[enc];
    if (!decode) break; // An unknown coding: the body is shown as it came, as fetch does.
    try {
      body = await decode(body);
    } catch (err) {
      throw new ProbeError(`the ${enc} body could not be decoded: ${(err as Error).message}`, true);
    }
  }
  let text = body.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { latencyMs: msSince(start), status: answer.status, headers, body: text };
}

/** The headers fetch would add, unless the check sets them. */
function withDefaults(headers: Record<string, string>): Record<string, string> {
  const names = new Set(Object.keys(headers).map((h) => h.toLowerCase()));
  const out = { ...headers };
  if (!names.has('accept')) out.accept = '*/*';
  if (!names.has('accept-encoding')) out['accept-encoding'] = 'gzip, deflate, br';
  if (!names.has('user-agent')) out['user-agent'] = 'slipway-smoke-test';
  return out;
}
