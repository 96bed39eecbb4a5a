/**
 * Words shared by the lint and the planner: how a migration is made to run outside a
 * transaction, and a statement shown whole on one line.
 */
import { scanTokens } from './pg-parser.js';

/**
 * How the planner says to run a migration outside a transaction: Slipway's marker. The
 * runner rewrites it into the file's own format (`MigrationFormat.noTransactionAdvice`) when
 * the folder is another tool's.
 */
export const NO_TRANSACTION_ADVICE = 'start the file with -- slipway:no-transaction';

/** The same advice when the format is not known: true for every format. */
export const ANY_FORMAT_NO_TRANSACTION_ADVICE =
  "run it outside a transaction (a Slipway file starts with -- slipway:no-transaction; another tool's file uses that tool's marker, e.g. -- +goose NO TRANSACTION)";

/** The longest statement an error or finding shows before cutting it. */
const STATEMENT_MAX = 300;

/**
 * A statement on one line as written: comments dropped, whitespace between tokens collapsed,
 * tokens (strings included) kept; cut after `max` characters at a token boundary, never
 * inside a word, and said to be cut.
 */
export function shownStatement(text: string, max = STATEMENT_MAX): string {
  let parts: string[];
  try {
    const bytes = Buffer.from(text, 'utf8');
    parts = scanTokens(text)
      .filter((t) => t.tokenName !== 'SQL_COMMENT' && t.tokenName !== 'C_COMMENT')
      .map((t, i, all) => {
        const word = bytes.subarray(t.start, t.end).toString('utf8').replace(/\s+/g, ' ');
        const prev = all[i - 1];
        return prev && prev.end < t.start ? ` ${word}` : word;
      });
  } catch {
    parts = text.split(/(?=\s)/).map((p) => p.replace(/\s+/g, ' '));
  }
  let out = '';
  for (const p of parts) {
    if (out.length + p.length > max && out) return `${out.trimEnd()} … (${text.trim().length} characters)`;
    out += p;
  }
  return out.trim();
}
