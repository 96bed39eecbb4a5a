/**
 * The health gate: after a component deploys (or rolls back), its `health` checks from the
 * policy file run with the smoke-test engine until they pass or the deadline passes.
 */
import { runChecks, DEFAULT_RUN_OPTIONS, type Check, type CheckResult } from '../checks/index.js';
import type { Runtime } from '../core/runtime.js';

/** The verdict on one component's health. */
export interface HealthOutcome {
  healthy: boolean;
  results: CheckResult[];
  /** One line: which checks failed and why. */
  message?: string;
}

/** What a gate needs for one component. */
interface HealthRequest {
  component: string;
  checks: readonly Check[];
  /** The environment's URL: relative check URLs resolve against it. */
  baseUrl?: string;
  timeoutMs: number;
  runtime: Runtime;
}

/** Decides whether a component is healthy; the default runs the check engine. */
export type HealthGate = (request: HealthRequest) => Promise<HealthOutcome>;

/** The health gate over src/checks. */
export const checkEngineGate: HealthGate = async (request) => {
  if (request.checks.length === 0) return { healthy: true, results: [] };
  const results = await runChecks(
    request.checks,
    {
      ...DEFAULT_RUN_OPTIONS,
      // Short first retries: a service that just restarted is usually up within a second.
      intervalMs: 250,
      maxIntervalMs: 5_000,
      attemptTimeoutMs: Math.min(DEFAULT_RUN_OPTIONS.attemptTimeoutMs, request.timeoutMs),
      timeoutMs: request.timeoutMs,
      baseUrl: request.baseUrl || undefined,
      env: request.runtime.env,
    },
    request.runtime,
  );
  const failed = results.filter((r) => !r.passed);
  return {
    healthy: failed.length === 0,
    results,
    message: failed.length ? failed.map((r) => `${r.name}: ${r.message ?? 'failed'}`).join('; ') : undefined,
  };
};
