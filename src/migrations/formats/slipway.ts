/** Slipway's own layout: `<version>_<name>.sql`, an optional `.down.sql`, `-- slipway:no-transaction` on the first line. */
import { UserError } from '../../core/errors.js';
import { ignorable, notAMigration } from './common.js';
import type { MigrationFormat, ParsedMigration, Part } from './types.js';

const NAME = /^(\d+)_([A-Za-z0-9][A-Za-z0-9_.-]*?)(\.down)?\.sql$/;
const NO_TX = /^\s*--\s*slipway:no-transaction\s*$/i;

/** True when the first line marks the file to run outside a transaction. */
export function isNoTransaction(sql: string): boolean {
  return NO_TX.test(sql.replace(/^\uFEFF/, '').split('\n', 1)[0] ?? '');
}

export const slipwayFormat: MigrationFormat = {
  name: 'slipway',
  tool: 'your migration tool',
  command: '<the command that applies your migrations>',
  noTransactionHint: '-- slipway:no-transaction',
  noTransactionAdvice: 'start the file with -- slipway:no-transaction',
  async parse(entries, read) {
    const ups = new Map<string, ParsedMigration>();
    const downs = new Map<string, Part>();
    for (const e of entries) {
      if (e.isDir || ignorable(e.name)) continue;
      const m = NAME.exec(e.name);
      if (!m) {
        if (e.name.toLowerCase().endsWith('.sql'))
          throw new UserError(
            `${e.file}: a migration must be named <version>_<name>.sql (or .down.sql), with a numeric version such as 001 or 20250101120000`,
            { file: e.file },
          );
        throw notAMigration(e, slipwayFormat, '<version>_<name>.sql');
      }
      const source = await read(e);
      const part: Part = { file: e.file, sql: source.text, noTransaction: isNoTransaction(source.text) };
      const key = `${m[1]}_${m[2]}`;
      if (m[3]) downs.set(key, part);
      else ups.set(key, { version: BigInt(m[1]), versionText: m[1], name: m[2], up: part, source });
    }
    for (const [key, down] of downs) {
      const up = ups.get(key);
      if (!up)
        throw new UserError(`${down.file}: a down migration without its up migration ${key}.sql`, { file: down.file });
      up.down = down;
    }
    return [...ups.values()];
  },
};
