/** The check engine, as smoke-test and deploy use it. See docs/smoke-test.md. */
export { parseChecks, healthChecks, type CheckSource } from './parse.js';
export { runChecks, latencyStats, DEFAULT_RUN_OPTIONS } from './run.js';
export { junitXml, writeJUnit, summaryMarkdown, latencyText } from './report.js';
export type { Check, CheckResult, RunOptions, LatencyStats, Expectation } from './types.js';
