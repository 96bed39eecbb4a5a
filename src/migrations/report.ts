/** The migrate action's outputs and job summary. */
import { duration, table } from '../core/markdown.js';
import type { Runtime } from '../core/runtime.js';
import type { MigrationResult, RefusedState } from './runner.js';

/** Set applied, pending, current, backup and findings. */
export function setMigrateOutputs(result: MigrationResult, rt: Runtime): void {
  rt.setOutput('applied', result.applied);
  rt.setOutput('pending', result.pending);
  rt.setOutput('current', result.current);
  rt.setOutput('backup', result.backup);
  rt.setOutput('backup-location', result.backupLocation);
  rt.setOutput('findings', result.findings);
}

/** The outputs of a run refused before it applied anything: nothing applied, no backup. */
export function setRefusedOutputs(state: RefusedState, rt: Runtime): void {
  rt.setOutput('applied', []);
  rt.setOutput('pending', state.pending);
  rt.setOutput('current', state.current);
  rt.setOutput('backup', '');
  rt.setOutput('backup-location', '');
  rt.setOutput('findings', state.findings);
}

/** The job summary of a refused run: why, where the database is, and the findings that stopped it. */
export function refusedMigrationSummary(state: RefusedState, reason: string): string {
  const lines = [
    '## Migrations (refused: nothing applied)',
    '',
    reason,
    '',
    `Version **${state.current || 'none'}**, ${state.pending} migration${state.pending === 1 ? '' : 's'} pending.`,
    '',
  ];
  if (state.findings.length) lines.push(findingsTable(state.findings), '');
  return lines.join('\n');
}

/**
 * A run that stopped before its first migration (it never got the lock, or a refusal such as
 * a missing right, an unreachable server or a bad folder): nothing was applied and no backup
 * taken, and nothing was linted. `pending` and `current` stay unset: the history is read under
 * the lock, after those checks, so this run may never have read it.
 */
export function setNothingAppliedOutputs(rt: Runtime): void {
  rt.setOutput('applied', []);
  rt.setOutput('backup', '');
  rt.setOutput('backup-location', '');
  rt.setOutput('findings', []);
}

/** The job summary of a run that never got the lock. */
export function lockNotTakenSummary(reason: string): string {
  return notRunSummary('the lock was not taken', reason);
}

/** The job summary of a run stopped before its first migration: why, and that nothing was applied. */
export function notRunSummary(heading: string, reason: string): string {
  return [
    `## Migrations (not run: ${heading})`,
    '',
    reason,
    '',
    'Nothing was applied. What is pending is not known: the history is read under the lock, after the checks that stopped this run.',
    '',
  ].join('\n');
}

/** The job summary of a cancelled run whose own report did not come in time: what is known is where to look. */
export function cancelledUnknownSummary(why: string): string {
  return `## Migrations (cancelled)\n\nCancelled (${why}) before the run could report what it applied; its log lists each migration as it was applied, and the history table is the record.\n`;
}

/** What a failed run did not do: the migration that failed (or was cancelled) and those after it that never ran. */
export interface NotRun {
  /** The file of the migration that failed. */
  failed: string;
  /** The files after it that did not run, in order. */
  pending: string[];
  /** The version of a failed revert, listed once (as failed), not also as applied before. */
  failedVersion?: bigint;
}

/** The job summary of a run stopped by a failing (or cancelled) migration: the table with it and what is pending, then why. */
export function failedMigrationSummary(
  result: MigrationResult,
  notRun: NotRun,
  message: string,
  cancelled: boolean,
): string {
  return `${migrationSummary(result, { ...notRun, cancelled })}\n**${cancelled ? 'Cancelled' : 'Failed'}:** ${message}\n`;
}

/** Only the last applied migrations are listed; a long history would drown the summary. */
const HISTORY_ROWS = 10;

/**
 * The job summary: migrations with their state and duration, then the lint findings. After a
 * failure, `notRun` adds the migration that failed and those still pending, so the table shows
 * every migration the run was about, not only what was applied.
 */
export function migrationSummary(result: MigrationResult, notRun?: NotRun & { cancelled?: boolean }): string {
  const where = result.database;
  const title = `## Migrations${result.dryRun ? ' (dry run)' : ''}`;
  if (result.tool === 'command')
    return `${title}\n\nThe project's own migration command ran on ${where}${result.backup ? `, after a backup to \`${result.backup}\`` : ''}.\n`;
  const rows: (string | number)[][] = [];
  const earlier = result.previouslyApplied.filter(
    (r) =>
      !result.applied.some((a) => a.direction === 'down' && BigInt(a.version) === r.version) &&
      r.version !== notRun?.failedVersion,
  );
  if (earlier.length > HISTORY_ROWS) rows.push([`… ${earlier.length - HISTORY_ROWS} earlier`, 'applied before', '']);
  for (const r of earlier.slice(-HISTORY_ROWS))
    rows.push([`${r.version}_${r.name}`, `applied before (${r.appliedBy})`, duration(r.durationMs)]);
  for (const a of result.applied) {
    const state = result.dryRun
      ? a.direction === 'down'
        ? 'would revert'
        : 'would apply'
      : a.direction === 'down'
        ? 'reverted'
        : 'applied';
    rows.push([
      `\`${a.file}\``,
      `${state}${a.transaction ? '' : ' (no transaction)'}`,
      result.dryRun ? '' : duration(a.durationMs),
    ]);
  }
  if (notRun?.failed) {
    const what = notRun.cancelled ? 'cancelled' : 'failed';
    rows.push([`\`${notRun.failed}\``, result.direction === 'down' ? `${what} (revert)` : what, '']);
  }
  for (const file of notRun?.pending ?? []) rows.push([`\`${file}\``, 'pending', '']);
  for (const r of result.remaining) rows.push([`\`${r.file}\``, 'pending (beyond the target)', '']);
  const lines = [title, '', `Database ${where}: version **${result.current || 'none'}**.`, ''];
  lines.push(rows.length ? table(['migration', 'state', 'duration'], rows) : 'No migrations.', '');
  if (result.backup) lines.push(`Backup: \`${result.backup}\``, '');
  if (result.findings.length) {
    lines.push(findingsTable(result.findings), '');
  }
  return lines.join('\n');
}

function findingsTable(findings: MigrationResult['findings']): string {
  return [
    '### Findings: changes that break the running version',
    '',
    table(
      ['file', 'line', 'rule', 'destructive', 'why'],
      findings.map((f) => [f.file, f.line, f.rule, f.destructive ? 'yes' : 'no', f.message]),
    ),
  ].join('\n');
}
