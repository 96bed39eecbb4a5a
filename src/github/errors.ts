/**
 * GitHub API errors as the user reads them. Kept apart from client.ts, which loads Octokit:
 * every action's entry point turns a failure into its error line through apiFailure, and
 * most actions never load a client.
 */
import { isUserError, UserError } from '../core/errors.js';

/** The HTTP status of an Octokit error, or undefined for anything else. */
export function httpStatus(err: unknown): number | undefined {
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === 'number' ? s : undefined;
}

/** The message GitHub gave with an error response (and its validation errors), one line. */
export function apiMessage(err: unknown): string {
  const data = (err as { response?: { data?: { message?: string; errors?: unknown[] } } }).response?.data;
  const base =
    data?.message ??
    (err instanceof Error ? err.message.replace(/ - https:\/\/docs\.github\.com\S*/, '') : String(err));
  const details = (data?.errors ?? [])
    .map((e) =>
      typeof e === 'string' ? e : ((e as { message?: string; code?: string }).message ?? (e as { code?: string }).code),
    )
    .filter(Boolean);
  return details.length ? `${base} (${details.join('; ')})` : base;
}

/**
 * An API failure the retries could not fix, as one line for the user: the request, GitHub's
 * status and message, and what to check. The token is never part of it. Anything that is
 * not an HTTP error (a UserError, a bug) is returned unchanged.
 */
export function apiFailure(err: unknown): unknown {
  const status = httpStatus(err);
  if (status === undefined || isUserError(err)) return err;
  const req = (err as { request?: { method?: string; url?: string } }).request;
  let what = 'a request';
  let origin = '';
  if (req?.method && req.url) {
    let where = req.url;
    try {
      const url = new URL(req.url);
      where = decodeURIComponent(url.pathname);
      origin = url.origin;
    } catch {
      /* a relative URL: shown as it is */
    }
    what = `${req.method} ${where}`;
  }
  if (!answered(err)) {
    // No HTTP answer at all (Octokit calls that a 500): say the API could not be reached, and why.
    const attempts = attemptsOf(err);
    return new UserError(
      `cannot reach the GitHub API${origin ? ` at ${origin}` : ''}: ${transportReason(err)} (${what}${attempts > 1 ? `, after ${attempts} attempts` : ''}); check GITHUB_API_URL and the network`,
    );
  }
  const hint =
    status === 401
      ? '; check the token input (expired, revoked, or not a token)'
      : status === 403 || status === 404
        ? '; check that the token can reach this repository and the job has the permissions it needs (contents: write)'
        : '';
  return new UserError(`GitHub API: ${what} failed with ${status}: ${apiMessage(err)}${hint}`);
}

/** True when the server answered (any status); false for a refused connection, DNS, TLS or a timeout. */
function answered(err: unknown): boolean {
  return (err as { response?: unknown }).response !== undefined;
}

/** How many times the request was tried (the retry plugin counts its retries on the request options). */
function attemptsOf(err: unknown): number {
  const retries = (err as { request?: { request?: { retryCount?: unknown } } }).request?.request?.retryCount;
  return typeof retries === 'number' ? retries + 1 : 1;
}

/**
 * Why a request got no answer, one line: `connect ECONNREFUSED 127.0.0.1:8080`,
 * `getaddrinfo ENOTFOUND api.example.com`, a timeout. fetch wraps the system error in a
 * "fetch failed" TypeError, and an AggregateError (IPv6 and IPv4 both refused) has no message.
 */
function transportReason(err: unknown): string {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const { message, code, errors } = e as { message?: unknown; code?: unknown; errors?: unknown };
    // The client's own timeout names the request, which the caller names already.
    if (typeof message === 'string' && message && message !== 'fetch failed')
      return message.split('\n')[0].replace(/^[A-Z]+ \S+ (timed out)/, '$1');
    if (Array.isArray(errors) && errors.length) return transportReason(errors[0]);
    if (typeof code === 'string') return code;
  }
  return 'no answer';
}
