/**
 * Prisma Migrate: `<dir>/<timestamp>_<name>/migration.sql`, one folder per migration, ordered
 * by the timestamp; `migration_lock.toml` is Prisma's own. Prisma has no down migrations.
 */
import { UserError } from '../../core/errors.js';
import { cannotRunInTransaction, ignorable, notAMigration } from './common.js';
import type { MigrationFormat, ParsedMigration } from './types.js';

const NAME = /^(\d+)_(.+)$/;

export const prismaFormat: MigrationFormat = {
  name: 'prisma',
  tool: 'prisma',
  command: 'npx prisma migrate deploy',
  noTransactionHint: 'a statement that cannot run in one',
  noTransactionAdvice: 'move it to a migration of its own',
  async parse(entries, read) {
    const out: ParsedMigration[] = [];
    for (const e of entries) {
      if (ignorable(e.name) || (!e.isDir && e.name === 'migration_lock.toml')) continue;
      const m = NAME.exec(e.name);
      if (!e.isDir || !m) throw notAMigration(e, prismaFormat, '<timestamp>_<name>/migration.sql');
      const source = await read(e, 'migration.sql').catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT')
          throw new UserError(`${e.file}/: a Prisma migration folder without migration.sql`, { file: e.file });
        throw err;
      });
      out.push({
        version: BigInt(m[1]),
        versionText: m[1],
        name: m[2],
        up: { file: source.file, sql: source.text, noTransaction: cannotRunInTransaction(source.file, source.text) },
        source,
      });
    }
    return out;
  },
};
