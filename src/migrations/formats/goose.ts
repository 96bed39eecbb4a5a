/**
 * goose SQL migrations: `<version>_<name>.sql` with `-- +goose Up` and `-- +goose Down`
 * sections, `-- +goose NO TRANSACTION` for the whole file, and `-- +goose StatementBegin` /
 * `StatementEnd` around a statement goose must not split. Only the Up section runs forward.
 * `.go` migrations are goose's own program and need the goose binary.
 */
import { UserError } from '../../core/errors.js';
import type { SqlStatement } from '../sql-split.js';
import { statementsOf } from '../statements.js';
import { ignorable, keepLines, linesOf, needsTool, notAMigration } from './common.js';
import type { MigrationFormat, ParsedMigration, Part, ReadFile } from './types.js';

const NAME = /^(\d+)_(.+)\.sql$/;
const ANNOTATION = /^--\s*\+goose\s+(.*)$/i;

type Section = 'up' | 'down';

export const gooseFormat: MigrationFormat = {
  name: 'goose',
  tool: 'goose',
  command: 'goose -dir <dir> postgres "$DATABASE_URL" up',
  noTransactionHint: '-- +goose NO TRANSACTION',
  noTransactionAdvice: 'add -- +goose NO TRANSACTION to the file',
  async parse(entries, read) {
    const out: ParsedMigration[] = [];
    for (const e of entries) {
      if (e.isDir || ignorable(e.name)) continue;
      if (e.name.endsWith('.go')) throw needsTool(e.file, 'a goose Go migration', gooseFormat);
      const m = NAME.exec(e.name);
      if (!m) throw notAMigration(e, gooseFormat, '<version>_<name>.sql or .go');
      const source = await read(e);
      const { up, down } = parseGooseFile(source);
      out.push({ version: BigInt(m[1]), versionText: m[1], name: m[2], up, down, source });
    }
    return out;
  },
};

/** Split one goose file into its Up and Down parts. */
function parseGooseFile(source: ReadFile): { up: Part; down?: Part } {
  const { file } = source;
  const lines = linesOf(source.text);
  const sectionOf: (Section | null)[] = [];
  const blocks: { section: Section; from: number; to: number }[] = [];
  let section: Section | null = null;
  let seen = { up: false, down: false };
  let blockStart: number | null = null;
  let noTransaction = false;
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    const a = ANNOTATION.exec(line);
    sectionOf.push(a ? null : section);
    if (!a) {
      if (section === null && line && !line.startsWith('--'))
        throw new UserError(`${file}:${i + 1}: SQL before -- +goose Up; goose files start with the Up section`, {
          file,
          line: i + 1,
        });
      continue;
    }
    const cmd = a[1].trim().replace(/\s+/g, ' ').toUpperCase();
    const at = { file, line: i + 1 };
    if (cmd === 'UP' || cmd === 'DOWN') {
      const s: Section = cmd === 'UP' ? 'up' : 'down';
      if (seen[s]) throw new UserError(`${file}:${i + 1}: a second -- +goose ${a[1].trim()}`, at);
      if (blockStart !== null)
        throw new UserError(`${file}:${blockStart + 1}: -- +goose StatementBegin without StatementEnd`, {
          file,
          line: blockStart + 1,
        });
      seen = { ...seen, [s]: true };
      section = s;
    } else if (cmd === 'STATEMENTBEGIN') {
      if (section === null) throw new UserError(`${file}:${i + 1}: -- +goose StatementBegin before -- +goose Up`, at);
      if (blockStart !== null) throw new UserError(`${file}:${i + 1}: -- +goose StatementBegin inside another`, at);
      blockStart = i;
    } else if (cmd === 'STATEMENTEND') {
      if (blockStart === null || section === null)
        throw new UserError(`${file}:${i + 1}: -- +goose StatementEnd without StatementBegin`, at);
      blocks.push({ section, from: blockStart + 1, to: i - 1 });
      blockStart = null;
    } else if (cmd === 'NO TRANSACTION') noTransaction = true;
    else if (cmd === 'ENVSUB OFF') continue;
    else if (cmd === 'ENVSUB ON')
      throw needsTool(file, 'uses -- +goose ENVSUB ON (environment substitution)', gooseFormat, i + 1);
    else throw new UserError(`${file}:${i + 1}: unknown goose annotation ${JSON.stringify(line)}`, at);
  }
  if (blockStart !== null)
    throw new UserError(`${file}:${blockStart + 1}: -- +goose StatementBegin without StatementEnd`, {
      file,
      line: blockStart + 1,
    });
  if (!seen.up)
    throw new UserError(`${file}: no -- +goose Up annotation; a goose SQL migration starts with it`, { file });
  const part = (s: Section): Part => {
    const sql = trimEnd(keepLines(lines, (i) => sectionOf[i] === s));
    const own = blocks.filter((b) => b.section === s);
    return {
      file,
      sql,
      noTransaction,
      statements: own.length ? explicitStatements(file, lines, sectionOf, s, own, sql) : undefined,
    };
  };
  return { up: part('up'), down: seen.down ? part('down') : undefined };
}

/** The section's statements: each StatementBegin/End block is one, the rest split as usual. */
function explicitStatements(
  file: string,
  lines: string[],
  sectionOf: (Section | null)[],
  section: Section,
  blocks: { from: number; to: number }[],
  sql: string,
): SqlStatement[] {
  const inBlock = (i: number) => blocks.some((b) => i >= b.from && i <= b.to);
  const outside = statementsOf(
    file,
    keepLines(lines, (i) => sectionOf[i] === section && !inBlock(i)),
  );
  const inside: SqlStatement[] = [];
  for (const b of blocks) {
    const parts = statementsOf(
      file,
      keepLines(lines, (i) => i >= b.from && i <= b.to),
    );
    if (!parts.length) continue;
    const text = lines
      .slice(b.from, b.to + 1)
      .join('\n')
      .trim()
      .replace(/;$/, '');
    inside.push({ text, code: parts.map((p) => p.code).join('; '), line: parts[0].line, offset: 0 });
  }
  const lineStart = [0];
  for (const l of sql.split('\n')) lineStart.push(lineStart[lineStart.length - 1] + l.length + 1);
  return [...outside, ...inside]
    .sort((a, b) => a.line - b.line)
    .map((s) => {
      const at = sql.indexOf(s.text, lineStart[s.line - 1] ?? 0);
      return { ...s, offset: at >= 0 ? at : s.offset };
    });
}

function trimEnd(text: string): string {
  return text.replace(/\s+$/, '') + '\n';
}
