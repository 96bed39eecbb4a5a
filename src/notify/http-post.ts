/** One JSON POST to a webhook, with a timeout; the caller retries. */

/** A failed delivery: `retryable` for network errors, 5xx and 429. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** How long the receiver asked us to wait (429's Retry-After), in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** POST `body` as JSON to `url`; throws a DeliveryError that never contains the URL. */
export async function postJson(url: string, body: unknown, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  let res: Response;
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'slipway' },
      body: JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = timeout.aborted
      ? `no answer within ${timeoutMs} ms`
      : signal?.aborted
        ? 'given up: the time for notifications ran out'
        : (e.cause?.code ?? e.cause?.message ?? e.name);
    throw new DeliveryError(why, !signal?.aborted);
  }
  const text = await res.text().catch(() => '');
  if (res.ok) return;
  const retryAfter = Number(res.headers.get('retry-after'));
  // The receiver's own words help ("invalid_blocks", "embeds: too long"), cut to one short line.
  const detail = text.replace(/\s+/g, ' ').trim().slice(0, 200);
  throw new DeliveryError(
    `HTTP ${res.status}${detail ? `: ${detail}` : ''}`,
    res.status >= 500 || res.status === 429,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
  );
}
