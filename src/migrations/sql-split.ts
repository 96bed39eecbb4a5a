/**
 * A migration's statements, as PostgreSQL's own parser finds them (pg-parser.ts): no
 * hand-written lexer decides where a statement ends, so dollar-quoted and `BEGIN ATOMIC`
 * bodies, nested comments and quoting are read exactly as the server reads them. The one
 * thing the server's parser does not read is psql's inline `COPY … FROM stdin` data (the
 * lines up to `\.`); it is cut out here and kept on its statement. Each statement keeps its
 * line so lint findings and failures can point into the file.
 */
import type { Node } from 'libpg-query';
import { UserError } from '../core/errors.js';
import { ParseFailure, parseStatements, scanTokens, type RawStatement } from './pg-parser.js';

/** One statement of a file. */
export interface SqlStatement {
  /** The statement as written (from its first token), without its semicolon. */
  text: string;
  /** The statement with comments removed, string contents emptied and whitespace collapsed. */
  readonly code: string;
  /** Character offset of the statement's first token in the file. */
  offset: number;
  /** 1-based line of the statement's first token. */
  line: number;
  /** The statement's syntax tree, as PostgreSQL's parser returns it. */
  node?: Node;
  /** For `COPY … FROM stdin`: the data lines that follow it in the file (without the `\.` line). */
  copyData?: string;
}

/** The statements of a file, and what was left open at its end (a quote or comment), if anything. */
export interface SplitResult {
  statements: SqlStatement[];
  unterminated: { what: string; line: number } | null;
}

/** PostgreSQL's parser rejected a statement: the message and the line (and column) it stopped at. */
export class SqlSyntaxError extends UserError {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}: ${reason}`, { line, column });
  }

  /** The same error, located in `file`. */
  inFile(file: string): UserError {
    return new UserError(
      `${file}:${this.line}: ${this.reason} (PostgreSQL's parser rejects this statement; nothing was run)`,
      { file, line: this.line, column: this.column },
    );
  }
}

class Statement implements SqlStatement {
  #code: string | undefined;
  constructor(
    readonly text: string,
    readonly offset: number,
    readonly line: number,
    readonly node: Node,
    public copyData?: string,
  ) {}

  get code(): string {
    this.#code ??= codeOf(this.text);
    return this.#code;
  }
}

/** Split `sql` into statements; empty input (only comments or whitespace) gives none. Throws SqlSyntaxError. */
export function splitSql(sql: string): SplitResult {
  const lines = lineStarts(sql);
  const statements: Statement[] = [];
  let base = 0;
  while (base < sql.length) {
    const segment = sql.slice(base);
    try {
      statements.push(...located(segment, parseStatements(segment), base, lines));
      break;
    } catch (err) {
      if (!(err instanceof ParseFailure)) throw err;
      const copy = copyBlock(segment, err.position);
      if (!copy) {
        const at = base + charIndex(segment, err.position);
        const line = lineOf(lines, at);
        const open = unterminatedWhat(err.message);
        if (open) return { statements, unterminated: { what: open, line } };
        throw new SqlSyntaxError(err.message, line, at - lines[line - 1] + 1);
      }
      const before = located(segment.slice(0, copy.dataStart), copy.statements, base, lines);
      before[before.length - 1].copyData = segment.slice(copy.dataStart, copy.dataEnd);
      statements.push(...before);
      if (copy.terminatorEnd < 0)
        return {
          statements,
          unterminated: {
            what: 'COPY … FROM stdin data (no \\. line ends it)',
            line: lineOf(lines, base + copy.dataStart),
          },
        };
      base += copy.terminatorEnd;
    }
  }
  return { statements, unterminated: null };
}

/** The parser's statements of `segment` (byte offsets) as located statements of the file. */
function located(segment: string, raw: RawStatement[], base: number, lines: number[]): Statement[] {
  const toChar = byteToChar(segment);
  return raw.map((r) => {
    const start = toChar(r.location);
    const end = r.length === undefined ? segment.length : toChar(r.location + r.length);
    const offset = base + start;
    return new Statement(segment.slice(start, end).trimEnd(), offset, lineOf(lines, offset), r.stmt);
  });
}

/**
 * The inline data of a `COPY … FROM stdin` that the parser stopped in, psql's way: the data
 * starts on the line after the statement's semicolon and ends before a line `\.`.
 */
function copyBlock(
  segment: string,
  errorAt: number,
): { statements: RawStatement[]; dataStart: number; dataEnd: number; terminatorEnd: number } | null {
  if (!/copy/i.test(segment)) return null;
  const errorChar = charIndex(segment, errorAt);
  // Try the line starts at or before the error, nearest first: the data block is the last thing parsed before it.
  for (let l = segment.lastIndexOf('\n', errorChar - 1); l >= 0; l = l === 0 ? -1 : segment.lastIndexOf('\n', l - 1)) {
    const dataStart = l + 1;
    const lineStart = segment.lastIndexOf('\n', l - 1) + 1;
    if (!/;\s*(--.*)?$/.test(segment.slice(lineStart, l).replace(/\r$/, ''))) continue;
    let statements: RawStatement[];
    try {
      statements = parseStatements(segment.slice(0, dataStart));
    } catch {
      continue;
    }
    const last = statements[statements.length - 1]?.stmt as { CopyStmt?: CopyTree } | undefined;
    if (!last?.CopyStmt || !isCopyFromStdin(last.CopyStmt)) return null;
    const end = /^\\\.\r?$/m.exec(segment.slice(dataStart));
    if (!end) return { statements, dataStart, dataEnd: segment.length, terminatorEnd: -1 };
    const dataEnd = dataStart + end.index;
    const newline = segment.indexOf('\n', dataEnd);
    return { statements, dataStart, dataEnd, terminatorEnd: newline < 0 ? segment.length : newline + 1 };
  }
  return null;
}

interface CopyTree {
  is_from?: boolean;
  filename?: string;
  is_program?: boolean;
}

function isCopyFromStdin(copy: CopyTree): boolean {
  return !!copy.is_from && !copy.filename && !copy.is_program;
}

function unterminatedWhat(message: string): string | null {
  const m =
    /^unterminated (quoted string|quoted identifier|\/\* comment|dollar-quoted string|bit string literal|hexadecimal string literal)(?: at or near "(\$[^$]*\$)?)?/.exec(
      message,
    );
  if (!m) return null;
  if (m[1] === 'dollar-quoted string') return `a ${m[2] ?? '$$'}-quoted body`;
  if (m[1] === 'quoted identifier') return 'a quoted identifier';
  if (m[1] === '/* comment') return 'a /* comment';
  return 'a quoted string';
}

/** A statement on one line: comments dropped, string contents emptied, whitespace collapsed. */
function codeOf(text: string): string {
  let tokens;
  try {
    tokens = scanTokens(text);
  } catch {
    return text.replace(/\s+/g, ' ').trim();
  }
  const toChar = byteToChar(text);
  let out = '';
  let prevEnd = -1;
  for (const t of tokens) {
    if (t.tokenName === 'SQL_COMMENT' || t.tokenName === 'C_COMMENT') continue;
    const start = toChar(t.start);
    if (prevEnd >= 0 && start > prevEnd) out += ' ';
    prevEnd = toChar(t.end);
    const quoted = /^((?:[EeBbXxNn]|[Uu]&)?)'/.exec(t.text);
    if (quoted) out += `${quoted[1]}''`;
    else if (/^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(t.text)) out += '$$';
    else out += t.text;
  }
  return out;
}

/** A statement's syntax tree: the splitter's, else parsed from its text (for statements made elsewhere); {} when it has none. */
export function nodeOf(s: SqlStatement): Node {
  if (s.node) return s.node;
  try {
    return parseStatements(s.text)[0]?.stmt ?? ({} as Node);
  } catch {
    return {} as Node;
  }
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

/** The offsets where each line starts. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** The 1-based line holding UTF-16 offset `offset`. */
function lineOf(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

/** The UTF-16 offset of code point `cp` in `text`. */
function charIndex(text: string, cp: number): number {
  if (!/[\uD800-\uDFFF]/.test(text)) return Math.min(cp, text.length);
  let i = 0;
  for (let n = 0; n < cp && i < text.length; n++) i += text.codePointAt(i)! > 0xffff ? 2 : 1;
  return i;
}

/** A converter from UTF-8 byte offsets (as the parser gives them) to UTF-16 offsets, fastest on ASCII. */
function byteToChar(text: string): (byte: number) => number {
  // eslint-disable-next-line no-control-regex -- plain ASCII needs no conversion
  if (/^[\x00-\x7f]*$/.test(text)) return (b) => b;
  const bytes: number[] = [];
  let b = 0;
  for (let i = 0; i < text.length; i++) {
    bytes.push(b);
    const c = text.codePointAt(i)!;
    if (c > 0xffff) {
      bytes.push(b);
      i++;
      b += 4;
    } else b += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
  }
  bytes.push(b);
  return (byte) => {
    let lo = 0;
    let hi = bytes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (bytes[mid] < byte) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}
