/** A migration's statements, as the splitter finds them. */
import { UserError } from '../core/errors.js';
import { splitSql, type SqlStatement } from './sql-split.js';

/** Split a migration's SQL, failing on a quote or comment left open (it would swallow what follows). */
export function statementsOf(file: string, sql: string): SqlStatement[] {
  const split = splitSql(sql);
  if (split.unterminated)
    throw new UserError(`${file}:${split.unterminated.line}: ${split.unterminated.what} is never closed`, {
      file,
      line: split.unterminated.line,
    });
  return split.statements;
}
