/**
 * Adopting a live database: a team switching to Slipway has a database whose migrations
 * another tool applied. On the first run (the history table empty), the other tool's history
 * table is read and each migration it applied is recorded in Slipway's, with the checksum
 * of the file on disk, so nothing runs twice. A state that tool itself would refuse to go on
 * from (golang-migrate dirty, a failed Flyway or Prisma migration) is refused the same way.
 */
import { UserError } from '../core/errors.js';
import { sqlLiteral, quoteQualified, type DbSession } from './database.js';
import type { MigrationFile } from './files.js';
import { flywayKey, flywayParts } from './formats/flyway.js';
import type { FormatName } from './formats/types.js';

/** What another tool's history says was applied. */
export interface Adoption {
  /** The table read, e.g. goose_db_version. */
  table: string;
  tool: string;
  /** The files it applied, with when (null when that tool does not keep it). */
  applied: { file: MigrationFile; appliedAt: string | null }[];
}

const TABLES: Partial<Record<FormatName, string>> = {
  goose: 'goose_db_version',
  'golang-migrate': 'schema_migrations',
  dbmate: 'schema_migrations',
  flyway: 'flyway_schema_history',
  prisma: '_prisma_migrations',
};

/** Read the other tool's history for `format`, or null when the database has none. */
export async function readForeignHistory(
  session: DbSession,
  format: FormatName,
  files: MigrationFile[],
): Promise<Adoption | null> {
  const table = TABLES[format];
  if (!table) return null;
  const found = await session.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [table]);
  if (!found[0]?.t) return null;
  const columns = new Set(
    (
      await session.query<{ c: string }>(
        'SELECT attname AS c FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped',
        [table],
      )
    ).map((r) => r.c),
  );
  const q = quoteQualified(table);
  const byVersion = new Map(files.map((f) => [f.version, f]));
  const missing = (tool: string, version: string): UserError =>
    new UserError(
      `${table} (${tool}) records version ${version} as applied, but no migration in the folder has that version; restore its file before adopting this database`,
    );

  if (format === 'golang-migrate' || format === 'dbmate') {
    const isGolang = columns.has('dirty');
    // The two tools share the table name; its columns say which one made it.
    if ((format === 'golang-migrate') !== isGolang) return null;
    if (isGolang) {
      const rows = await session.query<{ version: string; dirty: boolean }>(
        `SELECT version::text AS version, dirty FROM ${q} LIMIT 1`,
      );
      const row = rows[0];
      if (!row || BigInt(row.version) < 0n) return { table, tool: 'golang-migrate', applied: [] };
      if (row.dirty)
        throw new UserError(
          `${table} (golang-migrate) is dirty at version ${row.version}: that migration failed part-way; repair the schema by hand, then run migrate force <the last good version> before Slipway adopts this database`,
        );
      const current = BigInt(row.version);
      if (current > 0n && !byVersion.has(current)) throw missing('golang-migrate', row.version);
      return {
        table,
        tool: 'golang-migrate',
        applied: files.filter((f) => f.version <= current).map((file) => ({ file, appliedAt: null })),
      };
    }
    const rows = await session.query<{ version: string }>(`SELECT version::text AS version FROM ${q}`);
    const applied = rows.map((r) => {
      const file = /^\d+$/.test(r.version) ? byVersion.get(BigInt(r.version)) : undefined;
      if (!file) throw missing('dbmate', r.version);
      return { file, appliedAt: null };
    });
    return { table, tool: 'dbmate', applied };
  }

  if (format === 'goose') {
    const rows = await session.query<{ version: string; applied: boolean; at: string | null }>(
      `SELECT version_id::text AS version, is_applied AS applied, tstamp::text AS at FROM ${q} ORDER BY id DESC`,
    );
    // goose reads newest first: the latest row for a version says whether it is applied.
    const seen = new Set<string>();
    const applied: Adoption['applied'] = [];
    for (const r of rows) {
      if (seen.has(r.version)) continue;
      seen.add(r.version);
      if (!r.applied || r.version === '0') continue;
      const file = byVersion.get(BigInt(r.version));
      if (!file) throw missing('goose', r.version);
      applied.push({ file, appliedAt: r.at });
    }
    return { table, tool: 'goose', applied };
  }

  if (format === 'flyway') {
    const rows = await session.query<{
      version: string | null;
      type: string;
      script: string;
      success: boolean;
      at: string | null;
    }>(`SELECT version, type, script, success, installed_on::text AS at FROM ${q} ORDER BY installed_rank`);
    const applied = new Map<bigint, Adoption['applied'][number]>();
    for (const r of rows) {
      if (r.version === null || r.type === 'SCHEMA') continue;
      const parts = flywayParts(r.version);
      const key = parts && flywayKey(parts);
      if (key === null || key === undefined) throw missing('Flyway', r.version);
      if (!r.success)
        throw new UserError(
          `${table} (Flyway) records a failed migration, version ${r.version} (${r.script}); run flyway repair once the schema is fixed, before Slipway adopts this database`,
        );
      if (r.type.startsWith('UNDO')) {
        applied.delete(key);
        continue;
      }
      if (r.type === 'BASELINE') {
        // Flyway treats everything up to the baseline as already in the schema.
        for (const file of files) if (file.version <= key) applied.set(file.version, { file, appliedAt: r.at });
        continue;
      }
      const file = byVersion.get(key);
      if (!file) throw missing('Flyway', r.version);
      applied.set(key, { file, appliedAt: r.at });
    }
    return { table, tool: 'Flyway', applied: [...applied.values()] };
  }

  // prisma
  const rows = await session.query<{ name: string; finished: string | null; rolledBack: boolean }>(
    `SELECT migration_name AS name, finished_at::text AS finished, rolled_back_at IS NOT NULL AS "rolledBack" FROM ${q} ORDER BY started_at`,
  );
  const byName = new Map(files.map((f) => [`${f.versionText}_${f.name}`, f]));
  const applied = new Map<string, Adoption['applied'][number]>();
  for (const r of rows) {
    if (r.rolledBack) continue;
    if (r.finished === null)
      throw new UserError(
        `${table} (Prisma) records migration ${r.name} as started and not finished; resolve it with prisma migrate resolve before Slipway adopts this database`,
      );
    const file = byName.get(r.name);
    if (!file) throw missing('Prisma', r.name);
    applied.set(r.name, { file, appliedAt: r.finished });
  }
  return { table, tool: 'Prisma', applied: [...applied.values()] };
}

/** Record the adopted migrations in Slipway's history table, in one transaction. */
export async function recordAdoption(session: DbSession, historyTable: string, adoption: Adoption): Promise<void> {
  if (!adoption.applied.length) return;
  const by = `adopted from ${adoption.table} (${adoption.tool})`;
  const values = adoption.applied
    .map(
      ({ file, appliedAt }) =>
        `(${file.version}, ${sqlLiteral(file.name)}, ${sqlLiteral(file.checksum)}, ${appliedAt ? `${sqlLiteral(appliedAt)}::timestamptz` : 'now()'}, 0, ${sqlLiteral(by)})`,
    )
    .join(',\n');
  try {
    await session.exec(
      `BEGIN;\nINSERT INTO ${quoteQualified(historyTable)} (version, name, checksum, applied_at, duration_ms, applied_by) VALUES ${values};\nCOMMIT`,
    );
  } catch (err) {
    await session.exec('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
