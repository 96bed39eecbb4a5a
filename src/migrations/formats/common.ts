/** Helpers the format modules share: advice errors, blanking other sections, transaction rules. */
import { UserError } from '../../core/errors.js';
import { statementsOf } from '../statements.js';
import type { FolderEntry, MigrationFormat } from './types.js';

/** Files every format leaves alone: hidden files and notes. */
export function ignorable(name: string): boolean {
  return name.startsWith('.') || /\.(md|txt)$/i.test(name) || /^(readme|license)$/i.test(name);
}

/** A migration the built-in runner cannot run: one line naming it and the tool that can. */
export function needsTool(
  file: string,
  why: string,
  format: Pick<MigrationFormat, 'tool' | 'command'>,
  line?: number,
): UserError {
  return new UserError(
    `${file}${line ? `:${line}` : ''}: ${why}; Slipway's built-in runner cannot run it, so set tool: command with command: ${format.command} (the ${format.tool} CLI)`,
    line ? { file, line } : { file },
  );
}

/** A file in the folder that belongs to no migration this format reads. */
export function notAMigration(entry: FolderEntry, format: MigrationFormat, expected: string): UserError {
  const file = entry.isDir ? `${entry.file}/` : entry.file;
  return new UserError(
    `${file}: not a ${format.name} migration (expected ${expected}); remove or move it, set migrate.format if the folder is another format, or use tool: command with the tool that runs it`,
    { file },
  );
}

/** The text with every line outside `keep` (0-based indexes) emptied, so line numbers stay the file's. */
export function keepLines(lines: string[], keep: (index: number) => boolean): string {
  return lines.map((l, i) => (keep(i) ? l : '')).join('\n');
}

/** Lines of a file, whatever its line endings (the \r stays out of annotations but the SQL keeps its own). */
export function linesOf(text: string): string[] {
  return text.replace(/^\uFEFF/, '').split('\n');
}

const NOT_IN_TX =
  /^(CREATE\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY|DROP\s+INDEX\s+CONCURRENTLY|REINDEX\b.*\bCONCURRENTLY|VACUUM|CREATE\s+DATABASE|DROP\s+DATABASE|ALTER\s+SYSTEM|CREATE\s+TABLESPACE|DROP\s+TABLESPACE)\b/i;

/** The statement's words without comments, for a keyword test. */
function words(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/--[^\n]*/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Tools that send a file as one query (golang-migrate, Flyway, Prisma) run a lone
 * `CREATE INDEX CONCURRENTLY` outside a transaction; so does the built-in runner for their files.
 */
export function cannotRunInTransaction(file: string, sql: string): boolean {
  return statementsOf(file, sql).some((s) => NOT_IN_TX.test(words(s.text)));
}

/**
 * golang-migrate's documentation wraps a file in BEGIN; … COMMIT; itself. The built-in runner
 * brings its own transaction, so an outer pair is blanked out (line numbers kept); one in the
 * middle of a file stays and is refused as before.
 */
export function withoutOuterTransaction(file: string, sql: string): string {
  const stmts = statementsOf(file, sql);
  if (stmts.length < 2) return sql;
  const first = stmts[0];
  const last = stmts[stmts.length - 1];
  if (!/^(BEGIN|START TRANSACTION)( (TRANSACTION|WORK))?$/i.test(words(first.text))) return sql;
  if (!/^(COMMIT|END)( (TRANSACTION|WORK))?$/i.test(words(last.text))) return sql;
  let out = sql;
  for (const s of [last, first]) {
    const at = out.indexOf(s.text, Math.min(s.offset, out.length));
    const from = at >= 0 ? at : out.indexOf(s.text);
    if (from < 0) return sql;
    out = out.slice(0, from) + s.text.replace(/[^\n]/g, ' ') + out.slice(from + s.text.length);
  }
  return out;
}
