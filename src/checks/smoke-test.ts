/** The smoke-test action: prove a deployed environment works, with a verdict that says exactly what failed. */
import { loadConfig, type SlipwayConfig } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { commonInputs, defineAction, input } from '../core/inputs.js';
import { duration, table } from '../core/markdown.js';
import type { Runtime } from '../core/runtime.js';
import { parseYaml } from '../core/yaml-source.js';
import { durationInput, retriesInput } from './inputs.js';
import { healthChecks, parseChecks } from './parse.js';
import { smokeTestSummary, writeJUnit, latencyText } from './report.js';
import { resolveChecks } from './resolve.js';
import { DEFAULT_RUN_OPTIONS, runChecks } from './run.js';
import type { Check, CheckResult, RunOptions } from './types.js';
import { maskPolicySecrets } from '../core/policy-secrets.js';

export const smokeTest = defineAction({
  name: 'smoke-test',
  description:
    'Prove a deployed environment works: HTTP, TCP, PostgreSQL, Redis and WebSocket checks, retried until ready, with a job summary and a JUnit report.',
  inputs: {
    checks: input.string(
      "YAML list of checks (http, tcp, postgres, redis, websocket). Empty: the health entries of the policy file's components.",
    ),
    config: commonInputs.config,
    environment: input.string('Environment of the policy file whose url resolves relative URLs (e.g. staging).'),
    url: input.string("Base URL for relative check URLs; overrides the environment's url."),
    timeout: durationInput('Overall deadline for all checks, e.g. 120s or 5m.', '120s'),
    retries: retriesInput('Retries per check after its first attempt; unlimited means until the deadline.'),
    interval: durationInput('Delay before the first retry; it doubles up to 10 s, with jitter.', '1s'),
    concurrency: input.integer('How many checks run at once.', '10', 1),
    report: input.string('Path of a JUnit XML report to write. Empty: no report.'),
    'dry-run': commonInputs['dry-run'],
  },
  outputs: {
    passed: 'true when every check passed (empty on a dry run).',
    failed: 'JSON list of the names of the checks that failed.',
    results:
      'JSON list of {name, kind, target, passed, attempts, latencyMs, message, durationMs}, and latency {samples, p50, p95, max} for a check with samples.',
    report: 'Absolute path of the JUnit XML report (empty when none was written).',
  },
  async run(inputs, rt) {
    const config = await loadConfig(rt.cwd, inputs.config);
    // Before any command runs: a secret the policy names is masked even where it is printed first.
    maskPolicySecrets(config, rt);
    const baseUrl = baseUrlFor(config, inputs.environment, inputs.url);
    const checks = inputs.checks.trim() ? inlineChecks(inputs.checks) : configChecks(config);
    if (checks.length === 0) return nothingToCheck(config, rt);
    const options: RunOptions = {
      ...DEFAULT_RUN_OPTIONS,
      timeoutMs: inputs.timeout,
      retries: inputs.retries,
      intervalMs: inputs.interval,
      concurrency: inputs.concurrency,
      baseUrl,
      env: rt.env,
    };
    if (inputs.dryRun) return dryRun(checks, options, rt);
    // Every variable is read before the group opens: a missing one fails the step in one line,
    // under no header announcing checks that never ran.
    resolveChecks(checks, options, rt);

    const results = await rt.log.group(
      `Smoke tests: ${checks.length} check${checks.length === 1 ? '' : 's'}, ${options.concurrency} at a time, deadline ${duration(options.timeoutMs)}`,
      () => runChecks(checks, { ...options, onResult: (r) => rt.log.info(resultLine(r)) }, rt),
    );
    const failed = results.filter((r) => !r.passed);
    const report = inputs.report.trim() ? await writeJUnit(inputs.report.trim(), results, rt) : '';
    rt.setOutput('passed', failed.length === 0);
    rt.setOutput(
      'failed',
      failed.map((r) => r.name),
    );
    rt.setOutput('results', results);
    rt.setOutput('report', report);
    await rt.summary(smokeTestSummary(results));
    if (failed.length) {
      const shown = failed.slice(0, 3).map((r) => `${r.name}: ${r.message}`);
      if (failed.length > 3) shown.push(`and ${failed.length - 3} more`);
      throw new UserError(`${failed.length} of ${results.length} smoke tests failed: ${shown.join('; ')}`);
    }
    rt.log.info(`All ${results.length} smoke tests passed.`);
  },
});

/** The base URL: the url input, else the environment's url; both must be absolute http(s) URLs. */
function baseUrlFor(config: SlipwayConfig, environment: string, url: string): string | undefined {
  let base = url.trim() || undefined;
  let from = 'input "url"';
  if (environment.trim()) {
    const env = config.environments[environment.trim()];
    if (!env) {
      const known = Object.keys(config.environments);
      throw new UserError(
        `input "environment": unknown environment "${environment}" in ${config.file ?? 'the default configuration'} (expected ${known.length ? `one of: ${known.join(', ')}` : 'an environments: section in the policy file'})`,
      );
    }
    if (!base && env.url) {
      base = env.url;
      from = `${config.file}: environments.${environment.trim()}.url`;
    }
  }
  if (base && !/^https?:\/\/[^/]/i.test(base))
    throw new UserError(`${from}: expected an http(s) URL, got ${JSON.stringify(base)}`);
  // Relative check URLs are appended to its path: a query or fragment would swallow them.
  if (base && /[?#]/.test(base))
    throw new UserError(
      `${from}: expected a base URL without a query or fragment (check paths are appended to it), got ${JSON.stringify(base)}`,
    );
  return base;
}

function inlineChecks(text: string): Check[] {
  const source = parseYaml(text, 'input "checks"', { input: true });
  const checks = parseChecks(source.value, source);
  if (checks.length === 0) throw new UserError('input "checks": expected a list of checks, found an empty list');
  return checks;
}

/** Every component's health entries, named "<component>: <check>". */
function configChecks(config: SlipwayConfig): Check[] {
  return Object.keys(config.components).flatMap((name) =>
    healthChecks(config, name).map((c) => ({ ...c, name: `${name}: ${c.name}` })),
  );
}

/** No checks input and no health entries: a well-formed "nothing to do", said loudly. */
async function nothingToCheck(config: SlipwayConfig, rt: Runtime): Promise<void> {
  const why = config.file
    ? `no checks: the checks input is empty and no component of ${config.file} has health entries; nothing was verified`
    : 'no checks: the checks input is empty and there is no policy file (.github/slipway.yml) to read health entries from; nothing was verified';
  rt.log.warning(`smoke-test: ${why}`);
  rt.setOutput('passed', true);
  rt.setOutput('failed', []);
  rt.setOutput('results', []);
  rt.setOutput('report', '');
  await rt.summary(['## Smoke tests', '', `⚠️ ${why}.`, ''].join('\n'));
}

/** Validate everything (variables included) and print what would run; contact nothing. */
async function dryRun(checks: Check[], options: RunOptions, rt: Runtime): Promise<void> {
  const resolved = resolveChecks(checks, options, rt);
  const rows = resolved.map((c) => [c.name, c.kind, c.target, c.samples ? `${c.samples} samples` : '']);
  rt.log.info(`Dry run: ${resolved.length} checks would run (nothing was contacted).`);
  for (const c of resolved) rt.log.info(`  ${c.kind} ${c.name} → ${c.target}`);
  rt.setOutput('passed', '');
  rt.setOutput('failed', []);
  rt.setOutput(
    'results',
    resolved.map((c) => ({ name: c.name, kind: c.kind, target: c.target })),
  );
  rt.setOutput('report', '');
  await rt.summary(
    ['## Smoke tests (dry run)', '', table(['check', 'kind', 'target', 'sampling'], rows), ''].join('\n'),
  );
}

function resultLine(r: CheckResult): string {
  const tries = `${r.attempts} attempt${r.attempts === 1 ? '' : 's'}`;
  return r.passed ? `✅ ${r.name} (${tries}, ${latencyText(r)})` : `❌ ${r.name} (${tries}): ${r.message}`;
}
