/** The check engine, as smoke-test and deploy use it. See docs/smoke-test.md. */
export { parseChecks, healthChecks, type CheckSource } from './parse.js';
export { runChecks, DEFAULT_RUN_OPTIONS } from './run.js';
export { junitXml } from './report.js';
export type { Check, CheckResult, RunOptions } from './types.js';
