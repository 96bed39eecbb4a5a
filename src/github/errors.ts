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
  if (req?.method && req.url) {
    let where = req.url;
    try {
      where = decodeURIComponent(new URL(req.url).pathname);
    } catch {
      /* a relative URL: shown as it is */
    }
    what = `${req.method} ${where}`;
  }
  const hint =
    status === 401
      ? '; check the token input (expired, revoked, or not a token)'
      : status === 403 || status === 404
        ? '; check that the token can reach this repository and the job has the permissions it needs (contents: write)'
        : '';
  return new UserError(`GitHub API: ${what} failed with ${status}: ${apiMessage(err)}${hint}`);
}
