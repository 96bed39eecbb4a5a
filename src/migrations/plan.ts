/**
 * What a run will do, decided before anything is applied: drift between the history and
 * the files, the direction (up to the latest or a target, or down to a target), the
 * out-of-order rule, and statements that cannot run the way the file asks.
 */
import { UserError } from '../core/errors.js';
import type { MigrationFile } from './files.js';
import { statementsOf } from './files.js';
import type { AppliedRow } from './history.js';
import type { SqlStatement } from './sql-split.js';

/** One migration to run, in order. */
export interface PlannedMigration {
  migration: MigrationFile;
  direction: 'up' | 'down';
  /** The file that runs: the migration, or its .down.sql. */
  file: string;
  sql: string;
  noTransaction: boolean;
  statements: SqlStatement[];
}

/** The run's plan. */
export interface Plan {
  direction: 'up' | 'down' | 'none';
  steps: PlannedMigration[];
  /** Migrations not applied and not in this plan (above the target). */
  remaining: MigrationFile[];
}

/** Fail on an applied migration whose file changed or disappeared, naming the file. */
export function checkDrift(files: MigrationFile[], history: AppliedRow[], dirShown: string): void {
  const byVersion = new Map(files.map((f) => [f.version, f]));
  for (const row of history) {
    const f = byVersion.get(row.version);
    const when = `applied ${row.appliedAt.slice(0, 19)} by ${row.appliedBy}`;
    if (!f)
      throw new UserError(
        `migration drift: ${dirShown}/${row.version}_${row.name}.sql was ${when} but is no longer in ${dirShown}; restore it (applied migrations are never removed)`,
      );
    if (f.checksum !== row.checksum || f.name !== row.name)
      throw new UserError(
        `migration drift: ${f.file} changed after it was ${when} (checksum ${f.checksum.slice(0, 12)}, recorded ${row.checksum.slice(0, 12)}${f.name !== row.name ? `, recorded name ${row.name}` : ''}); revert the edit and add a new migration instead`,
        { file: f.file, line: 1 },
      );
  }
}

/** The `target` input as a version, or null for the latest. */
export function parseTarget(target: string | undefined): bigint | null {
  const t = (target ?? '').trim();
  if (!t || t.toLowerCase() === 'latest') return null;
  if (!/^\d+$/.test(t))
    throw new UserError(
      `input "target": expected a migration version (a number such as 3 or 20250101120000) or latest, got ${JSON.stringify(t)}`,
    );
  return BigInt(t);
}

/** Decide the steps; throws on out-of-order pending migrations and missing down files. */
export function planRun(
  files: MigrationFile[],
  history: AppliedRow[],
  options: { target: bigint | null; outOfOrder: boolean },
): Plan {
  const applied = new Set(history.map((r) => r.version));
  const current = history.length ? history[history.length - 1].version : 0n;
  const { target } = options;

  if (target !== null && target < current) {
    const byVersion = new Map(files.map((f) => [f.version, f]));
    const revert = history.filter((r) => r.version > target).reverse();
    const steps = revert.map((r) => {
      const m = byVersion.get(r.version)!;
      if (!m.down)
        throw new UserError(
          `input "target": going down to ${target} needs ${m.file.replace(/\.sql$/, '.down.sql')}, which does not exist`,
          { file: m.file },
        );
      return step(m, 'down', m.down.file, m.down.sql, m.down.noTransaction);
    });
    return { direction: 'down', steps, remaining: files.filter((f) => !applied.has(f.version)) };
  }

  const pending = files.filter((f) => !applied.has(f.version));
  const inPlan = pending.filter((f) => target === null || f.version <= target);
  const early = inPlan.filter((f) => f.version < current);
  if (early.length && !options.outOfOrder) {
    const shown = early.slice(0, 3).map((f) => f.file);
    throw new UserError(
      `${shown.join(', ')}${early.length > 3 ? ` and ${early.length - 3} more` : ''}: numbered below the last applied migration (${current}); renumber ${early.length === 1 ? 'it' : 'them'} above it, or set out-of-order: true`,
      { file: early[0].file },
    );
  }
  return {
    direction: inPlan.length ? 'up' : 'none',
    steps: inPlan.map((m) => step(m, 'up', m.file, m.sql, m.noTransaction)),
    remaining: pending.filter((f) => !inPlan.includes(f)),
  };
}

function step(
  m: MigrationFile,
  direction: 'up' | 'down',
  file: string,
  sql: string,
  noTransaction: boolean,
): PlannedMigration {
  const statements = statementsOf(file, sql);
  if (!noTransaction) checkTransactional(file, statements);
  return { migration: m, direction, file, sql, noTransaction, statements };
}

const TX_CONTROL = /^(BEGIN|COMMIT|ROLLBACK|END|START\s+TRANSACTION|ABORT)\b(?!\s+ATOMIC)/i;
const NOT_IN_TX =
  /^(CREATE\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY|DROP\s+INDEX\s+CONCURRENTLY|REINDEX\b.*\bCONCURRENTLY|VACUUM|CREATE\s+DATABASE|DROP\s+DATABASE|ALTER\s+SYSTEM|CREATE\s+TABLESPACE|DROP\s+TABLESPACE)\b/i;

/** A file that runs in a transaction must not end it, nor hold statements PostgreSQL refuses inside one. */
function checkTransactional(file: string, statements: SqlStatement[]): void {
  for (const s of statements) {
    const what = s.code.split(' ').slice(0, 4).join(' ');
    if (TX_CONTROL.test(s.code))
      throw new UserError(
        `${file}:${s.line}: ${what} would end the transaction Slipway runs this migration in; remove it, or start the file with -- slipway:no-transaction to manage transactions yourself`,
        { file, line: s.line },
      );
    if (NOT_IN_TX.test(s.code))
      throw new UserError(
        `${file}:${s.line}: ${what} cannot run inside a transaction; start the file with -- slipway:no-transaction (and keep it to this statement)`,
        { file, line: s.line },
      );
  }
}
