/** HTTP(S) checks: global fetch, the attempt's signal as its timeout, the body read in full. */
import type { HttpCheck } from '../types.js';
import type { ResolvedCheck } from '../resolve.js';
import { networkError, since, type AttemptContext, type Observation } from './probe.js';

/** One request; the latency runs until the body has been read. */
export async function probeHttp(check: HttpCheck & ResolvedCheck, ctx: AttemptContext): Promise<Observation> {
  const start = performance.now();
  const where = check.target;
  try {
    const res = await fetch(check.url, {
      method: check.method,
      headers: check.headers,
      body: check.body,
      signal: ctx.signal,
      redirect: 'follow',
    });
    const body = await res.text();
    const latencyMs = since(start);
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => (headers[k.toLowerCase()] = v));
    return { latencyMs, status: res.status, headers, body };
  } catch (err) {
    throw networkError(err, ctx, where);
  }
}
