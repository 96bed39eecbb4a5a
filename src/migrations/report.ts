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

/** Only the last applied migrations are listed; a long history would drown the summary. */
const HISTORY_ROWS = 10;

/** The job summary: migrations with their state and duration, then the lint findings. */
export function migrationSummary(result: MigrationResult): string {
  const where = result.database;
  const title = `## Migrations${result.dryRun ? ' (dry run)' : ''}`;
  if (result.tool === 'command')
    return `${title}\n\nThe project's own migration command ran on ${where}${result.backup ? `, after a backup to \`${result.backup}\`` : ''}.\n`;
  const rows: (string | number)[][] = [];
  const earlier = result.previouslyApplied.filter(
    (r) => !result.applied.some((a) => a.direction === 'down' && BigInt(a.version) === r.version),
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
