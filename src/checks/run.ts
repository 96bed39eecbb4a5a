/**
 * Running checks: at most `concurrency` at once, each retried with exponential backoff and
 * jitter until it passes, its retries are spent, or the overall deadline passes. A check
 * only passes on an attempt that met every expectation; on failure its result says what
 * was expected and what came back last.
 */
import { setMaxListeners } from 'node:events';
import { errorMessage } from '../core/errors.js';
import { duration } from '../core/markdown.js';
import { backoffDelay } from '../core/retry.js';
import type { Runtime } from '../core/runtime.js';
import { judgeObservation } from './assert.js';
import { probeHttp } from './probes/http.js';
import { ProbeError, type Observation, type Probe } from './probes/probe.js';
import { probeRedis } from './probes/redis.js';
import { probeTcp } from './probes/tcp.js';
import { resolveChecks, type ResolvedCheck } from './resolve.js';
import type { Check, CheckResult, LatencyStats, RunOptions } from './types.js';

// pg and ws are loaded on the first check that needs them: most runs have none, and loading
// them costs every action's start ~60 ms (the bundle keeps them in chunks of their own).
const PROBES: Record<Check['kind'], Probe> = {
  http: probeHttp as Probe,
  tcp: probeTcp as Probe,
  postgres: async (check, ctx) => (await import('./probes/postgres.js')).probePostgres(check as never, ctx),
  redis: probeRedis as Probe,
  websocket: async (check, ctx) => (await import('./probes/websocket.js')).probeWebSocket(check as never, ctx),
};

/** Defaults of the smoke-test inputs, shared with deploy. */
export const DEFAULT_RUN_OPTIONS = {
  timeoutMs: 120_000,
  retries: null,
  intervalMs: 1_000,
  maxIntervalMs: 10_000,
  concurrency: 10,
  attemptTimeoutMs: 10_000,
} as const;

type Attempt = { ok: true; obs: Observation } | { ok: false; message: string; retryable: boolean; latencyMs?: number };

/**
 * Run every check and return one result per check, in the order given. Secrets the checks
 * use are masked first; a missing variable or base URL throws a UserError before any check runs.
 */
export async function runChecks(checks: readonly Check[], options: RunOptions, rt: Runtime): Promise<CheckResult[]> {
  const resolved = resolveChecks(checks, options, rt);
  const deadline = Date.now() + options.timeoutMs;
  const expired = new AbortController();
  const timer = setTimeout(() => expired.abort(), options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([expired.signal, options.signal]) : expired.signal;
  // Every attempt in flight listens to it: up to `concurrency` listeners is expected, not a leak.
  setMaxListeners(0, signal);
  const results: CheckResult[] = new Array(resolved.length);
  let next = 0;
  const worker = async () => {
    while (next < resolved.length) {
      const i = next++;
      results[i] = await runOne(resolved[i], options, deadline, signal, rt);
      options.onResult?.(results[i]);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(Math.max(1, options.concurrency), resolved.length) }, worker));
  } finally {
    clearTimeout(timer);
  }
  return results;
}

async function runOne(
  check: ResolvedCheck,
  options: RunOptions,
  deadline: number,
  signal: AbortSignal,
  rt: Runtime,
): Promise<CheckResult> {
  const started = Date.now();
  const maxAttempts = options.retries === null ? Infinity : options.retries + 1;
  const sampled = (check.samples ?? 0) > 0;
  const base = { name: check.name, kind: check.kind, target: check.target };
  const result = (passed: boolean, attempts: number, latencyMs: number | null, extra: Partial<CheckResult> = {}) =>
    ({ ...base, passed, attempts, latencyMs, ...extra, durationMs: Date.now() - started }) satisfies CheckResult;
  const gaveUp = (why: string, attempts: number, last?: Attempt & { ok: false }) =>
    result(false, attempts, last?.latencyMs ?? null, {
      message: rt.redact(last ? `${last.message} (${why})` : why),
    });

  let last: (Attempt & { ok: false }) | undefined;
  let passedWith: Observation | undefined;
  let attempts = 0;
  while (!passedWith) {
    if (options.signal?.aborted) return gaveUp(`cancelled after ${attemptsText(attempts)}`, attempts, last);
    if (Date.now() >= deadline)
      return gaveUp(
        `the ${duration(options.timeoutMs)} deadline passed after ${attemptsText(attempts)}`,
        attempts,
        last,
      );
    attempts++;
    // An attempt the deadline cut shorter than its own timeout (a slow machine overslept the
    // backoff) says only "no answer within 2 ms": the attempt before it, run in full, says why.
    const cutShort = deadline - Date.now() < (options.attemptTimeoutMs ?? DEFAULT_RUN_OPTIONS.attemptTimeoutMs);
    const outcome = await attempt(check, options, deadline, signal, { latency: !sampled });
    if (outcome.ok) {
      passedWith = outcome.obs;
      break;
    }
    if (!(cutShort && last && Date.now() >= deadline)) last = outcome;
    if (!outcome.retryable) return gaveUp(`not retried: another attempt would not change it`, attempts, last);
    if (attempts >= maxAttempts) return gaveUp(`after ${attemptsText(attempts)}`, attempts, last);
    if (Date.now() >= deadline)
      return gaveUp(
        `the ${duration(options.timeoutMs)} deadline passed after ${attemptsText(attempts)}`,
        attempts,
        last,
      );
    const delay = backoffDelay(
      attempts,
      options.intervalMs,
      options.maxIntervalMs ?? DEFAULT_RUN_OPTIONS.maxIntervalMs,
    );
    if (Date.now() + delay >= deadline)
      return gaveUp(
        `the ${duration(options.timeoutMs)} deadline leaves no time for attempt ${attempts + 1}`,
        attempts,
        last,
      );
    rt.log.info(
      `${check.name}: attempt ${attempts} failed: ${rt.redact(outcome.message)}; retrying in ${duration(delay)}`,
    );
    await abortableSleep(delay, signal);
  }
  if (!sampled) return result(true, attempts, passedWith.latencyMs);

  const latencies: number[] = [];
  for (let s = 1; s <= check.samples!; s++) {
    if (Date.now() >= deadline)
      return result(false, attempts, passedWith.latencyMs, {
        message: `the ${duration(options.timeoutMs)} deadline passed after ${s - 1} of ${check.samples} samples`,
      });
    const outcome = await attempt(check, options, deadline, signal, { latency: false });
    if (!outcome.ok)
      return result(false, attempts, outcome.latencyMs ?? null, {
        message: rt.redact(`sample ${s} of ${check.samples} failed: ${outcome.message}`),
      });
    latencies.push(outcome.obs.latencyMs);
  }
  const latency = latencyStats(latencies);
  const max = check.expect.maxLatencyMs;
  if (max !== undefined && latency.p95 > max)
    return result(false, attempts, latency.p95, {
      latency,
      message: `expected p95 latency ≤ ${max} ms, measured p95 ${Math.round(latency.p95)} ms (p50 ${Math.round(latency.p50)} ms, max ${Math.round(latency.max)} ms over ${latency.samples} samples)`,
    });
  return result(true, attempts, latency.p95, { latency });
}

/** One attempt: the probe bounded by the attempt timeout and the deadline, then the assertions. */
async function attempt(
  check: ResolvedCheck,
  options: RunOptions,
  deadline: number,
  signal: AbortSignal,
  opts: { latency: boolean },
): Promise<Attempt> {
  const timeoutMs = Math.max(
    1,
    Math.min(options.attemptTimeoutMs ?? DEFAULT_RUN_OPTIONS.attemptTimeoutMs, deadline - Date.now()),
  );
  // One controller and a cleared timer per attempt: cheaper than AbortSignal.any + AbortSignal.timeout
  // (which leave a timer behind per attempt), and that matters at hundreds of checks.
  const controller = new AbortController();
  const abort = () => controller.abort();
  const timer = setTimeout(abort, timeoutMs);
  if (signal.aborted) abort();
  else signal.addEventListener('abort', abort, { once: true });
  let obs: Observation;
  try {
    obs = await PROBES[check.kind](check, { signal: controller.signal, timeoutMs });
  } catch (err) {
    if (err instanceof ProbeError) return { ok: false, message: err.message, retryable: err.retryable };
    return { ok: false, message: errorMessage(err), retryable: true };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', abort);
  }
  const verdict = judgeObservation(check, obs, opts);
  if (verdict.failures.length === 0) return { ok: true, obs };
  return { ok: false, message: verdict.failures.join('; '), retryable: verdict.retryable, latencyMs: obs.latencyMs };
}

/** "1 attempt", "3 attempts". */
function attemptsText(n: number): string {
  return `${n} attempt${n === 1 ? '' : 's'}`;
}

/** p50, p95 (nearest rank) and max of some latencies. */
function latencyStats(values: readonly number[]): LatencyStats {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
  return { samples: sorted.length, p50: rank(0.5), p95: rank(0.95), max: sorted[sorted.length - 1] };
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
