/**
 * A small SQL lexer: splits a migration into statements at top-level semicolons while
 * respecting quotes, dollar-quoting and comments, and keeps each statement's line so lint
 * findings and failures can point into the file.
 */

/** One statement of a file. */
export interface SqlStatement {
  /** The statement as written, comments included, without its semicolon. */
  text: string;
  /** The statement with comments removed, string contents emptied and whitespace collapsed, for lint. */
  code: string;
  /** Character offset of the statement's first character in the file. */
  offset: number;
  /** 1-based line of the statement's first token. */
  line: number;
}

/** The statements of a file, and what was left open at its end (a quote or comment), if anything. */
export interface SplitResult {
  statements: SqlStatement[];
  unterminated: { what: string; line: number } | null;
}

const IDENT_CHAR = /[A-Za-z0-9_$]/;
const PLAIN = /[^'"$;\-/\n]+/y;
const KEYWORDS = /\b(ATOMIC|CASE|END)\b/i;
const WORDS = /[A-Za-z_][A-Za-z0-9_$]*/g;

/** Split `sql` into statements; empty statements (only comments or whitespace) are dropped. */
export function splitSql(sql: string): SplitResult {
  const statements: SqlStatement[] = [];
  let line = 1;
  let start = 0;
  let code = '';
  let firstLine = 0;
  let unterminated: SplitResult['unterminated'] = null;
  // SQL-standard function bodies (BEGIN ATOMIC … END) contain semicolons of their own.
  let atomicDepth = 0;

  const flush = (end: number) => {
    const clean = code.replace(/\s+/g, ' ').trim();
    if (clean) statements.push({ text: sql.slice(start, end).trim(), code: clean, offset: start, line: firstLine });
    code = '';
    firstLine = 0;
    start = end + 1;
  };
  const mark = () => {
    if (!firstLine) firstLine = line;
  };

  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === '\n') {
      line++;
      code += ' ';
      i++;
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end;
      code += ' ';
    } else if (c === '/' && next === '*') {
      const open = line;
      let depth = 1;
      i += 2;
      while (i < sql.length && depth > 0) {
        if (sql[i] === '\n') line++;
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      if (depth > 0) unterminated = { what: 'a /* comment', line: open };
      code += ' ';
    } else if (c === "'" || c === '"') {
      mark();
      const open = line;
      const begin = i;
      const escapes = c === "'" && /[eE]/.test(sql[i - 1] ?? '') && !IDENT_CHAR.test(sql[i - 2] ?? '');
      i++;
      let closed = false;
      while (i < sql.length) {
        const ch = sql[i];
        if (ch === '\n') line++;
        if (escapes && ch === '\\') {
          if (sql[i + 1] === '\n') line++;
          i += 2;
          continue;
        }
        if (ch === c) {
          if (sql[i + 1] === c) {
            i += 2;
            continue;
          }
          closed = true;
          i++;
          break;
        }
        i++;
      }
      if (!closed) unterminated = { what: c === "'" ? 'a quoted string' : 'a quoted identifier', line: open };
      code += c === "'" ? "''" : `"${sql.slice(begin + 1, closed ? i - 1 : i).replace(/""/g, '"')}"`;
    } else if (
      c === '$' &&
      !IDENT_CHAR.test(sql[i - 1] ?? '') &&
      /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(sql.slice(i, i + 66))
    ) {
      mark();
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 66))![0];
      const open = line;
      const end = sql.indexOf(tag, i + tag.length);
      const stop = end < 0 ? sql.length : end + tag.length;
      for (let k = i; k < stop; k++) if (sql[k] === '\n') line++;
      if (end < 0) unterminated = { what: `a ${tag}-quoted body`, line: open };
      code += '$$';
      i = stop;
    } else if (c === ';' && atomicDepth === 0) {
      flush(i);
      i++;
    } else {
      // A run of ordinary characters at once: per-character work made lint a tenth of a run's time.
      PLAIN.lastIndex = i;
      const run = PLAIN.exec(sql)?.[0] || c;
      if (/\S/.test(run)) mark();
      if (KEYWORDS.test(run)) {
        for (const w of run.matchAll(WORDS)) {
          const word = w[0].toUpperCase();
          const before = code + run.slice(0, w.index);
          if (w.index === 0 && IDENT_CHAR.test(sql[i - 1] ?? '')) continue;
          if (word === 'ATOMIC' && /\bBEGIN\s*$/i.test(before)) atomicDepth++;
          else if (word === 'CASE' && atomicDepth > 0) atomicDepth++;
          else if (word === 'END' && atomicDepth > 0) atomicDepth--;
        }
      }
      code += run;
      i += run.length;
    }
  }
  flush(sql.length);
  return { statements, unterminated };
}

/** The 1-based line of character `index` (a code-point index, as PostgreSQL counts) in `text`. */
export function lineAtCodePoint(text: string, index: number): number {
  let line = 1;
  let cp = 0;
  for (const ch of text) {
    if (cp >= index) break;
    if (ch === '\n') line++;
    cp++;
  }
  return line;
}

/** The number of code points in `text`. */
export function codePointLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}
