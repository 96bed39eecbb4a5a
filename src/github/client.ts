/**
 * The one GitHub API client every action uses: Octokit from @actions/github with the retry
 * and throttling plugins. Server errors, timeouts, 429s and rate limits are retried with
 * backoff a bounded number of times; every attempt has its own timeout; the token is masked
 * before the first request so it can never reach a log line, an error or a summary.
 */
import { getOctokit } from '@actions/github';
import type { Octokit } from '@octokit/core';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { UserError } from '../core/errors.js';
import type { Runtime } from '../core/runtime.js';
import Bottleneck from 'bottleneck';

export { apiMessage, httpStatus } from './errors.js';

/** How to reach GitHub. */
export interface GitHubClientOptions {
  token: string;
  /** The REST API root. Default: GITHUB_API_URL (GitHub Enterprise Server sets it), else https://api.github.com. */
  baseUrl?: string;
  runtime: Runtime;
  /** Milliseconds one attempt may take. Default: SLIPWAY_GITHUB_TIMEOUT_MS, else 30 000. */
  timeoutMs?: number;
  /** Retries after the first attempt. Default: SLIPWAY_GITHUB_RETRIES, else 4. */
  retries?: number;
  /**
   * The backoff unit in milliseconds (retry n waits n² units; a rate limit's wait is in these
   * units per second) and the spacing between writes GitHub asks for. Default:
   * SLIPWAY_RETRY_BASE_MS, else 1000. Tests set it to 1.
   */
  retryBaseMs?: number;
  /** The longest rate-limit wait, in seconds, worth sleeping through (default 120). */
  maxRateLimitWaitS?: number;
}

/** The Octokit the actions use (REST methods and paginate). */
export type GitHubClient = ReturnType<typeof getOctokit>;

/** A client bound to one repository. */
export interface RepoClient {
  octokit: GitHubClient;
  owner: string;
  repo: string;
}

function envNumber(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0)
    throw new UserError(`${name}: expected a non-negative number, got ${JSON.stringify(raw)}`);
  return n;
}

/** The API base URL of the environment (GITHUB_API_URL), without a trailing slash. */
function apiBaseUrl(env: NodeJS.ProcessEnv): string {
  return (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, '');
}

/** Build the client; the token is masked at once. */
export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const { runtime } = options;
  const env = runtime.env;
  if (!options.token) throw new UserError('input "token": a GitHub token is required to call the GitHub API');
  runtime.mask(options.token);
  const timeoutMs = options.timeoutMs ?? envNumber(env, 'SLIPWAY_GITHUB_TIMEOUT_MS') ?? 30_000;
  const retries = options.retries ?? envNumber(env, 'SLIPWAY_GITHUB_RETRIES') ?? 4;
  const unit = options.retryBaseMs ?? envNumber(env, 'SLIPWAY_RETRY_BASE_MS') ?? 1000;
  const maxWait = options.maxRateLimitWaitS ?? 120;
  const log = runtime.log;

  const onLimit =
    (kind: string) =>
    (retryAfter: number, req: { method: string; url: string }, _octokit: unknown, retryCount: number): boolean => {
      if (retryCount >= retries || retryAfter > maxWait) {
        log.warning(
          `GitHub ${kind} on ${req.method} ${req.url}: giving up${retryAfter > maxWait ? ` (the limit resets in ${retryAfter} s)` : ` after ${retryCount + 1} attempts`}.`,
        );
        return false;
      }
      log.info(
        `GitHub ${kind} on ${req.method} ${req.url}: retrying in ${retryAfter} s (retry ${retryCount + 1} of ${retries}).`,
      );
      return true;
    };

  const octokit = getOctokit(
    options.token,
    {
      baseUrl: (options.baseUrl ?? apiBaseUrl(env)).replace(/\/+$/, ''),
      log: {
        debug: (m: string) => log.debug(m),
        info: (m: string) => log.debug(m),
        warn: (m: string) => log.warning(m),
        error: (m: string) => log.debug(m),
      },
      retry: { retries, retryAfterBaseValue: unit },
      throttle: {
        retryAfterBaseValue: unit,
        fallbackSecondaryRateRetryAfter: 60,
        // GitHub asks for a second between writes (three for releases, which notify watchers).
        write: spacing(unit),
        notifications: spacing(unit * 3),
        onRateLimit: onLimit('rate limit'),
        onSecondaryRateLimit: onLimit('secondary rate limit'),
      },
    },
    timeoutPlugin(timeoutMs),
    retry,
    throttling,
  );
  return octokit;
}

/** Bind a client to the repository named `owner/repo` (default: GITHUB_REPOSITORY). */
export function repoClient(
  octokit: GitHubClient,
  env: NodeJS.ProcessEnv,
  fullName = env.GITHUB_REPOSITORY ?? '',
): RepoClient {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(fullName.trim());
  if (!m)
    throw new UserError(
      `GITHUB_REPOSITORY: expected owner/name of the repository, got ${JSON.stringify(fullName)} (the runner sets it; set it when running locally)`,
    );
  return { octokit, owner: m[1], repo: m[2] };
}

/** The signal a caller passed, per request (the plugin replaces it on the options). */
const callerSignal = new WeakMap<object, AbortSignal | undefined>();

/**
 * Every attempt gets its own deadline. It is the innermost hook, so each retry starts a
 * fresh timer, and a timeout is raised as a 504-like error the retry plugin retries.
 */
function timeoutPlugin(ms: number) {
  return (octokit: Octokit): void => attemptTimeout(octokit, ms);
}

/** The hook of timeoutPlugin. */
function attemptTimeout(octokit: Octokit, ms: number): void {
  octokit.hook.wrap('request', async (request, opts) => {
    const timer = AbortSignal.timeout(ms);
    const own = (opts.request ?? {}) as Record<string, unknown>;
    // A retry comes back with the same options object, carrying the last attempt's signal.
    if (!callerSignal.has(opts)) callerSignal.set(opts, own.signal as AbortSignal | undefined);
    const outer = callerSignal.get(opts);
    const signal = outer ? AbortSignal.any([outer, timer]) : timer;
    // before-after-hook binds every hook to the same options object, so the signal must be
    // set on it: a new object passed to `request` would not reach the inner hooks.
    opts.request = { ...own, signal } as typeof opts.request;
    try {
      return await request(opts);
    } catch (err) {
      if (!timer.aborted || outer?.aborted) throw err;
      throw Object.assign(new Error(`${opts.method} ${opts.url} timed out after ${ms} ms`), {
        name: 'HttpError',
        status: 504,
        request: opts,
      });
    }
  });
}

/**
 * The throttling plugin's write limiter, at `minMs` between jobs one at a time: its own
 * groups are fixed at a second, which would slow every test (SLIPWAY_RETRY_BASE_MS scales it).
 */
function spacing(minMs: number): Bottleneck.Group {
  return new Bottleneck.Group({ maxConcurrent: 1, minTime: minMs });
}
