/**
 * dbmate: `<version>_<name>.sql` with `-- migrate:up` and `-- migrate:down` sections; an
 * option `transaction:false` on a section's line runs that section outside a transaction.
 * Only the up section runs forward.
 */
import { UserError } from '../../core/errors.js';
import { ignorable, keepLines, linesOf, notAMigration } from './common.js';
import type { MigrationFormat, ParsedMigration, Part, ReadFile } from './types.js';

const NAME = /^(\d+)_(.+)\.sql$/;
const MARK = /^--\s*migrate:(up|down)\b(.*)$/i;

export const dbmateFormat: MigrationFormat = {
  name: 'dbmate',
  tool: 'dbmate',
  command: 'dbmate --migrations-dir <dir> up',
  noTransactionHint: 'transaction:false',
  noTransactionAdvice: 'add transaction:false to its -- migrate:up line',
  async parse(entries, read) {
    const out: ParsedMigration[] = [];
    for (const e of entries) {
      if (e.isDir || ignorable(e.name)) continue;
      const m = NAME.exec(e.name);
      if (!m) throw notAMigration(e, dbmateFormat, '<version>_<name>.sql');
      const source = await read(e);
      const { up, down } = parseDbmateFile(source);
      out.push({ version: BigInt(m[1]), versionText: m[1], name: m[2], up, down, source });
    }
    return out;
  },
};

/** Split one dbmate file into its up and down parts. */
function parseDbmateFile(source: ReadFile): { up: Part; down?: Part } {
  const { file } = source;
  const lines = linesOf(source.text);
  const sectionOf: ('up' | 'down' | null)[] = [];
  const options: Record<'up' | 'down', boolean | null> = { up: null, down: null };
  let section: 'up' | 'down' | null = null;
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    const m = MARK.exec(line);
    if (!m) {
      if (section === null && line && !line.startsWith('--'))
        throw new UserError(`${file}:${i + 1}: SQL before -- migrate:up; dbmate files start with the up section`, {
          file,
          line: i + 1,
        });
      sectionOf.push(section);
      continue;
    }
    sectionOf.push(null);
    const s = m[1].toLowerCase() as 'up' | 'down';
    if (options[s] !== null) throw new UserError(`${file}:${i + 1}: a second -- migrate:${s}`, { file, line: i + 1 });
    let noTransaction = false;
    for (const opt of m[2].trim().split(/\s+/).filter(Boolean)) {
      const o = /^transaction:(true|false)$/i.exec(opt);
      if (!o)
        throw new UserError(
          `${file}:${i + 1}: unknown dbmate option ${JSON.stringify(opt)} (expected transaction:false)`,
          {
            file,
            line: i + 1,
          },
        );
      noTransaction = o[1].toLowerCase() === 'false';
    }
    options[s] = noTransaction;
    section = s;
  }
  if (options.up === null)
    throw new UserError(`${file}: no -- migrate:up line; a dbmate migration starts with it`, { file });
  const part = (s: 'up' | 'down'): Part => ({
    file,
    sql: keepLines(lines, (i) => sectionOf[i] === s).replace(/\s+$/, '') + '\n',
    noTransaction: options[s] === true,
  });
  return { up: part('up'), down: options.down === null ? undefined : part('down') };
}
