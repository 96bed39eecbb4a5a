/** The shapes of the check engine: checks as written, as resolved for a run, and their results. */

/** Assertions on an HTTP answer (or a WebSocket message: body, json). */
export interface Expectation {
  /** Accepted statuses; empty means any 2xx. */
  status?: number[];
  /** A substring of the body. */
  body?: string;
  /** Dot path → value the JSON body must hold there. */
  json?: Record<string, unknown>;
  /** Header name → a substring of its value (names are case-insensitive). */
  header?: Record<string, string>;
  /** The latency bound, or the p95 bound with `samples`. */
  maxLatencyMs?: number;
}

interface CheckBase {
  /** Shown in logs, outputs and reports; defaults to the target. */
  name: string;
  /** Measure the check this many times after it passes and apply maxLatencyMs to the p95. */
  samples?: number;
  expect: Expectation;
}

/** An HTTP(S) request. A URL starting with / is resolved against the base URL. */
export interface HttpCheck extends CheckBase {
  kind: 'http';
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** A TCP connection to host:port. */
export interface TcpCheck extends CheckBase {
  kind: 'tcp';
  host: string;
  port: number;
}

/** A PostgreSQL connection that runs a query; the URL comes from an environment variable. */
export interface PostgresCheck extends CheckBase {
  kind: 'postgres';
  env: string;
  query: string;
}

/** A Redis PING; the URL comes from an environment variable. */
export interface RedisCheck extends CheckBase {
  kind: 'redis';
  env: string;
}

/** A WebSocket handshake, optionally a message sent and an answer expected. */
export interface WebSocketCheck extends CheckBase {
  kind: 'websocket';
  url: string;
  headers: Record<string, string>;
  send?: string;
}

/** One validated check. */
export type Check = HttpCheck | TcpCheck | PostgresCheck | RedisCheck | WebSocketCheck;

/** The kinds of check, in the order they are documented. */
export const CHECK_KINDS = ['http', 'tcp', 'postgres', 'redis', 'websocket'] as const;

/** Latency statistics of a sampled check, in milliseconds. */
export interface LatencyStats {
  samples: number;
  p50: number;
  p95: number;
  max: number;
}

/** The verdict on one check. */
export interface CheckResult {
  name: string;
  kind: Check['kind'];
  /** The target as shown (URL without credentials, host:port, or the variable's name). */
  target: string;
  passed: boolean;
  attempts: number;
  /** The latency of the last attempt, or the p95 when sampled. */
  latencyMs: number | null;
  latency?: LatencyStats;
  /** On failure, one line: what was expected and what came back. */
  message?: string;
  /** Time from the first attempt to the verdict. */
  durationMs: number;
}

/** How to run a list of checks. */
export interface RunOptions {
  /** The overall deadline, for all checks together. */
  timeoutMs: number;
  /** Retries after the first attempt; null means until the deadline. */
  retries: number | null;
  /** Delay before the first retry; it doubles up to maxIntervalMs, with jitter. */
  intervalMs: number;
  maxIntervalMs?: number;
  /** The most checks in flight at once. */
  concurrency: number;
  /** Relative URLs are resolved against it. */
  baseUrl?: string;
  /** Where `{ env: NAME }` and `${NAME}` are looked up. */
  env: NodeJS.ProcessEnv;
  /** Cancels every check. */
  signal?: AbortSignal;
  /** The bound of one attempt (default 10 s, never past the deadline). */
  attemptTimeoutMs?: number;
  /** Called as each check reaches its verdict. */
  onResult?: (result: CheckResult) => void;
}
