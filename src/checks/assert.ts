/**
 * Assertions on what an attempt observed. Each failure is a phrase saying what was expected
 * and what came back; the verdict also says whether another attempt could change it.
 */
import type { Observation } from './probes/probe.js';
import type { Check } from './types.js';

/** The outcome of the assertions on one observation. */
export interface Verdict {
  failures: string[];
  /** Connection-level success with failed assertions is retried (the service may be warming); a 4xx is not. */
  retryable: boolean;
}

/** Statuses that mean "try again later" although they are not 5xx. */
const TRANSIENT_4XX = [408, 425, 429];

/** Check `obs` against the check's expectations; `latency: false` leaves maxLatencyMs to sampling. */
export function judgeObservation(check: Check, obs: Observation, opts: { latency: boolean }): Verdict {
  const e = check.expect;
  const failures: string[] = [];
  if (obs.status !== undefined) {
    const ok = e.status?.length ? e.status.includes(obs.status) : obs.status >= 200 && obs.status < 300;
    if (!ok) {
      const wanted = e.status?.length ? `status ${e.status.join(' or ')}` : 'a 2xx status';
      failures.push(`expected ${wanted}, got ${obs.status}${obs.body ? ` ${snippet(obs.body)}` : ''}`);
      // Other assertions on an error page would only be noise.
      const retryable =
        obs.status >= 500 || TRANSIENT_4XX.includes(obs.status) || (obs.status >= 200 && obs.status < 300);
      return { failures, retryable };
    }
  }
  for (const [name, want] of Object.entries(e.header ?? {})) {
    const found = obs.headers?.[name.toLowerCase()];
    if (found === undefined)
      failures.push(`expected header ${name} containing ${JSON.stringify(want)}, found no ${name} header`);
    else if (!found.toLowerCase().includes(want.toLowerCase()))
      failures.push(`expected header ${name} containing ${JSON.stringify(want)}, found ${JSON.stringify(found)}`);
  }
  if (e.body !== undefined && !(obs.body ?? '').includes(e.body))
    failures.push(`expected body containing ${JSON.stringify(e.body)}, got ${snippet(obs.body ?? '')}`);
  if (e.json) failures.push(...jsonFailures(e.json, obs.body ?? ''));
  if (opts.latency && e.maxLatencyMs !== undefined && obs.latencyMs > e.maxLatencyMs)
    failures.push(`expected latency ≤ ${e.maxLatencyMs} ms, measured ${Math.round(obs.latencyMs)} ms`);
  return { failures, retryable: true };
}

function jsonFailures(want: Record<string, unknown>, body: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return [`expected a JSON body, got ${snippet(body)}`];
  }
  const out: string[] = [];
  for (const [path, expected] of Object.entries(want)) {
    const found = jsonPath(doc, path);
    if (!found.exists) out.push(`expected json ${path} = ${JSON.stringify(expected)}, found nothing at ${path}`);
    else if (!deepEqual(found.value, expected))
      out.push(`expected json ${path} = ${JSON.stringify(expected)}, found ${JSON.stringify(found.value)}`);
  }
  return out;
}

/** The value at a dot path (`db.up`, `items.0.id`); a key that itself contains dots is matched whole first. */
function jsonPath(doc: unknown, path: string): { exists: boolean; value?: unknown } {
  if (isRecord(doc) && Object.prototype.hasOwnProperty.call(doc, path)) return { exists: true, value: doc[path] };
  let node: unknown = doc;
  for (const seg of path.split('.')) {
    if (Array.isArray(node) && /^\d+$/.test(seg) && Number(seg) < node.length) node = node[Number(seg)];
    else if (isRecord(node) && Object.prototype.hasOwnProperty.call(node, seg)) node = node[seg];
    else return { exists: false };
  }
  return { exists: true, value: node };
}

/** Structural equality of JSON values. */
function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => deepEqual(v, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A body as a short quoted string on one line (inner quotes kept as they are, to stay readable). */
function snippet(body: string, max = 80): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  if (!flat) return 'an empty body';
  return `"${flat.length > max ? `${flat.slice(0, max - 1)}…` : flat}"`;
}
