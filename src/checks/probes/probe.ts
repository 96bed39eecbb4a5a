/** What a probe reports back, and how it fails. */
import { CERTIFICATE_CODE, connectionFailure } from '../../core/connection-failure.js';
import type { ResolvedCheck } from '../resolve.js';

/** What came back from one attempt, before any assertion. */
export interface Observation {
  latencyMs: number;
  status?: number;
  /** Lower-cased header names. */
  headers?: Record<string, string>;
  /** The HTTP body or the WebSocket message. */
  body?: string;
}

/** A failed attempt: one line, and whether another attempt could change the verdict. */
export class ProbeError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'ProbeError';
  }
}

/** The bounds of one attempt. */
export interface AttemptContext {
  /** Fires at the attempt's timeout, at the deadline, or when the run is cancelled. */
  signal: AbortSignal;
  timeoutMs: number;
}

/** One attempt of a check. */
export type Probe<C extends ResolvedCheck = ResolvedCheck> = (check: C, ctx: AttemptContext) => Promise<Observation>;

/** A network error as one line: "connection refused (127.0.0.1:8080)", "no answer within 2000 ms". */
export function networkError(err: unknown, ctx: AttemptContext, where: string): ProbeError {
  if (ctx.signal.aborted) return new ProbeError(`no answer within ${Math.round(ctx.timeoutMs)} ms`, true);
  const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code ?? e.code;
  const failure = connectionFailure(code, where);
  if (failure) return new ProbeError(failure.message, failure.retryable);
  const detail = e.cause?.message ?? e.message;
  if (code && CERTIFICATE_CODE.test(code))
    return new ProbeError(
      `TLS: the server's certificate was rejected: ${detail} [${code}] (${where}); a private CA is trusted through NODE_EXTRA_CA_CERTS`,
      false,
    );
  return new ProbeError(`${detail}${code ? ` [${code}]` : ''} (${where})`, true);
}

/** Milliseconds since `start` (a performance.now() value), rounded to 0.1 ms. */
export function msSince(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}
