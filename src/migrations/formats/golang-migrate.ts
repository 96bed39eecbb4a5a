/**
 * golang-migrate: `<version>_<title>.up.sql` and `<version>_<title>.down.sql`, paired by
 * version. Files run as written (golang-migrate sends each as one query), so an outer
 * BEGIN/COMMIT is dropped for the runner's own transaction and a lone `CREATE INDEX
 * CONCURRENTLY` runs outside one.
 */
import { UserError } from '../../core/errors.js';
import { cannotRunInTransaction, ignorable, needsTool, notAMigration, withoutOuterTransaction } from './common.js';
import type { MigrationFormat, ParsedMigration, Part } from './types.js';

const NAME = /^(\d+)_(.+)\.(up|down)\.sql$/;

export const golangMigrateFormat: MigrationFormat = {
  name: 'golang-migrate',
  tool: 'golang-migrate',
  command: 'migrate -path <dir> -database "$DATABASE_URL" up',
  noTransactionHint: 'a statement that cannot run in one',
  noTransactionAdvice: 'move it to a migration of its own',
  async parse(entries, read) {
    const ups = new Map<bigint, ParsedMigration>();
    const downs = new Map<bigint, Part & { versionText: string }>();
    for (const e of entries) {
      if (e.isDir || ignorable(e.name)) continue;
      const m = NAME.exec(e.name);
      if (!m) {
        if (/^\d+_.+\.(up|down)\.[^.]+$/.test(e.name))
          throw needsTool(e.file, 'a golang-migrate migration that is not SQL', golangMigrateFormat);
        throw notAMigration(e, golangMigrateFormat, '<version>_<title>.up.sql or .down.sql');
      }
      const version = BigInt(m[1]);
      const source = await read(e);
      const sql = withoutOuterTransaction(e.file, source.text);
      const part: Part = { file: e.file, sql, noTransaction: cannotRunInTransaction(e.file, sql) };
      const same = m[3] === 'up' ? ups.get(version)?.up.file : downs.get(version)?.file;
      if (same) throw new UserError(`${e.file}: version ${m[1]} is also used by ${same}`, { file: e.file });
      if (m[3] === 'down') downs.set(version, { ...part, versionText: m[1] });
      else ups.set(version, { version, versionText: m[1], name: m[2], up: part, source });
    }
    for (const [version, down] of downs) {
      const up = ups.get(version);
      if (!up)
        throw new UserError(
          `${down.file}: a down migration without its up migration (no ${down.versionText}_<title>.up.sql in the folder)`,
          { file: down.file },
        );
      up.down = { file: down.file, sql: down.sql, noTransaction: down.noTransaction };
    }
    return [...ups.values()];
  },
};
