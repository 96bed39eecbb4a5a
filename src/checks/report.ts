/** The reports of a run: a JUnit XML file for test dashboards, and the job summary table. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { duration, table } from '../core/markdown.js';
import type { Runtime } from '../core/runtime.js';
import type { CheckResult } from './types.js';

/** XML text with the five entities escaped and characters XML 1.0 forbids dropped. */
function xml(text: string): string {
  return (
    text
      // The control characters XML 1.0 allows are the point of this class.
      // eslint-disable-next-line no-control-regex
      .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

const seconds = (ms: number | null) => ((ms ?? 0) / 1000).toFixed(3);

/** A JUnit XML document: one testsuite, one testcase per check, a <failure> for each failed one. */
export function junitXml(results: readonly CheckResult[], suite = 'smoke-test', timestamp = new Date()): string {
  const failures = results.filter((r) => !r.passed).length;
  const total = results.reduce((t, r) => t + r.durationMs, 0);
  const cases = results.map((r) => {
    const props = [`attempts: ${r.attempts}`, `target: ${r.target}`];
    if (r.latencyMs !== null) props.push(`latency: ${Math.round(r.latencyMs)} ms`);
    if (r.latency)
      props.push(
        `p50: ${Math.round(r.latency.p50)} ms, p95: ${Math.round(r.latency.p95)} ms, max: ${Math.round(r.latency.max)} ms`,
      );
    const out = `      <system-out>${xml(props.join('\n'))}</system-out>`;
    const open = `    <testcase name="${xml(r.name)}" classname="${xml(`${suite}.${r.kind}`)}" time="${seconds(r.durationMs)}">`;
    if (r.passed) return [open, out, '    </testcase>'].join('\n');
    const failure = `      <failure message="${xml(r.message ?? 'failed')}" type="${xml(r.kind)}">${xml(r.message ?? 'failed')}</failure>`;
    return [open, failure, out, '    </testcase>'].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(suite)}" tests="${results.length}" failures="${failures}" errors="0" time="${seconds(total)}">`,
    `  <testsuite name="${xml(suite)}" tests="${results.length}" failures="${failures}" errors="0" skipped="0" time="${seconds(total)}" timestamp="${timestamp.toISOString().replace(/\.\d+Z$/, '')}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** Write the JUnit report to `file` (relative to the runtime's cwd), secrets masked; returns its path. */
export async function writeJUnit(
  file: string,
  results: readonly CheckResult[],
  rt: Runtime,
  suite?: string,
): Promise<string> {
  const abs = path.resolve(rt.cwd, file);
  await mkdir(path.dirname(abs), { recursive: true });
  await writeFile(abs, rt.redact(junitXml(results, suite)));
  return abs;
}

/** The job summary: a table with ✅/❌, attempts and latency per check, and the failures spelled out. */
export function smokeTestSummary(results: readonly CheckResult[], title = 'Smoke tests'): string {
  const failed = results.filter((r) => !r.passed);
  const rows = results.map((r) => [
    r.passed ? '✅' : '❌',
    r.name,
    r.attempts,
    latencyText(r),
    r.passed ? '' : (r.message ?? ''),
  ]);
  const verdict = failed.length
    ? `**${failed.length} of ${results.length} checks failed.**`
    : `All ${results.length} checks passed.`;
  return [`## ${title}`, '', verdict, '', table(['', 'check', 'attempts', 'latency', 'details'], rows), ''].join('\n');
}

/** "120 ms", or "p50 80 ms · p95 120 ms · max 140 ms" for a sampled check. */
export function latencyText(r: CheckResult): string {
  if (r.latency)
    return `p50 ${duration(r.latency.p50)} · p95 ${duration(r.latency.p95)} · max ${duration(r.latency.max)}`;
  return r.latencyMs === null ? '—' : duration(r.latencyMs);
}
