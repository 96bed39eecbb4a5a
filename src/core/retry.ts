/** Bounded retries with exponential backoff and jitter, and timeouts for single attempts. */

/** How to retry. */
export interface RetryOptions {
  /** Total attempts, the first included. */
  attempts: number;
  /** Delay before the second attempt, doubled each time. */
  baseDelayMs: number;
  maxDelayMs?: number;
  /** Return false to stop retrying on this error. */
  retryable?: (err: unknown) => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
}

/** Resolve after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The delay before attempt `attempt + 1`: doubling from base, capped, with ±20 % jitter. */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs = 30_000, random = Math.random): number {
  const raw = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.round(raw * (0.8 + 0.4 * random()));
}

/** Call `fn` until it succeeds or the attempts run out; the last error is thrown. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const wait = options.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const retryable = options.retryable ? options.retryable(err) : true;
      if (!retryable || attempt >= options.attempts) throw err;
      const delay = backoffDelay(attempt, options.baseDelayMs, options.maxDelayMs);
      options.onRetry?.(err, attempt, delay);
      await wait(delay);
    }
  }
}
