/** One JSON POST to a webhook, with a timeout; the caller retries. */
import { firstLine, networkReason, socketAddress } from './network-error.js';
import { splitCredentials } from '../core/url-credentials.js';

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

/** A system error as undici attaches it to fetch's "fetch failed" TypeError. */
interface FetchCause {
  message?: string;
  code?: string;
  address?: string;
  port?: number;
  /** An AggregateError's: one per address tried (IPv6 and IPv4 both refused). */
  errors?: FetchCause[];
}

/**
 * Why fetch failed, as a DeliveryError. Never the TypeError's own message: fetch puts the URL
 * in it, and the URL sent (without its credentials) is not the value masked.
 */
function fetchFailure(err: unknown, url: string): DeliveryError {
  const cause = (err as { cause?: FetchCause }).cause;
  if (!cause) return new DeliveryError(`the request could not be made (${(err as Error).name})`, false);
  // The Fetch standard blocks some ports (6000, 6665-6669, 10080, …) before connecting: no retry helps.
  if (cause.message === 'bad port')
    return new DeliveryError(
      `fetch refuses port ${new URL(url).port} (the Fetch standard blocks it; use another port)`,
      false,
    );
  const first = cause.errors?.[0] ?? cause;
  const code = cause.code ?? first.code;
  const detail = firstLine(first.message ?? cause.message ?? '');
  const reason = networkReason(code, detail, socketAddress(first));
  if (reason) return new DeliveryError(reason.message, reason.retryable);
  return new DeliveryError(`${detail || 'no answer'}${code ? ` [${code}]` : ''}`, true);
}

/** POST `body` as JSON to `url`; throws a DeliveryError that never contains the URL. */
export async function postJson(url: string, body: unknown, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  let res: Response;
  const timeout = AbortSignal.timeout(timeoutMs);
  const target = splitCredentials(url);
  try {
    res = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'slipway',
        ...(target.authorization ? { authorization: target.authorization } : {}),
      },
      body: JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
  } catch (err) {
    if (timeout.aborted) throw new DeliveryError(`no answer within ${timeoutMs} ms`, true);
    if (signal?.aborted) throw new DeliveryError('given up: the time for notifications ran out', false);
    throw fetchFailure(err, target.url);
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
