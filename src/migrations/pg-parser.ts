/**
 * PostgreSQL's own parser (libpg_query compiled to WebAssembly, the `libpg-query` package),
 * loaded once per process. The splitter and the lint read its statements and syntax trees,
 * so a statement boundary or a rule sees exactly what the server will.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Node, ScanToken } from 'libpg-query';
import { InternalError } from '../core/errors.js';

/** The parser's functions this module uses. */
interface LibPgQuery {
  loadModule(): Promise<void>;
  parseSync(sql: string): { stmts?: { stmt?: Node; stmt_location?: number; stmt_len?: number }[] };
  scanSync(sql: string): { tokens: ScanToken[] };
}

/** The file holding the compiled parser; scripts/bundle.mjs copies it next to each bundle that needs it. */
const PARSER_WASM = 'libpg-query.wasm';

/**
 * The folder an ncc bundle runs from. The package's loader finds its .wasm through
 * `__dirname`, which a CommonJS module has but the ESM bundle does not; pointing it at the
 * bundle's folder (where the .wasm is copied) is what makes the bundle work. From the sources
 * the package loads as CommonJS and keeps its own `__dirname`.
 */
function bundleFolder(): string | undefined {
  const candidates = [path.dirname(fileURLToPath(import.meta.url)), process.argv[1] && path.dirname(process.argv[1])];
  return candidates.find((dir): dir is string => !!dir && existsSync(path.join(dir, PARSER_WASM)));
}

async function load(): Promise<LibPgQuery> {
  const g = globalThis as { __dirname?: string };
  const folder = g.__dirname === undefined ? bundleFolder() : undefined;
  if (folder) g.__dirname = folder;
  try {
    // Its ESM entry and its CommonJS one (what a bundle may get) put the functions in different places.
    const mod: unknown = await import('libpg-query');
    const lib = (
      typeof (mod as Partial<LibPgQuery>).parseSync === 'function' ? mod : (mod as { default: unknown }).default
    ) as LibPgQuery;
    await lib.loadModule();
    return lib;
  } catch (err) {
    throw new InternalError(
      `PostgreSQL's parser (${PARSER_WASM}) could not be loaded: ${(err as Error).message}; a bundle needs ${PARSER_WASM} beside its index.js (scripts/bundle.mjs copies it there)`,
      { cause: err },
    );
  } finally {
    // The loader read it synchronously when the module was evaluated; nothing else should see it.
    if (folder) delete g.__dirname;
  }
}

const lib = await load();

/** A statement as the parser returns it: its tree and its place in bytes of the UTF-8 text. */
export interface RawStatement {
  stmt: Node;
  /** Byte offset of the first token. */
  location: number;
  /** Length in bytes without the semicolon; undefined for a last statement that has none. */
  length: number | undefined;
}

/** What the parser rejected: its message and the 0-based character (code point) where it stopped. */
export class ParseFailure extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'ParseFailure';
  }
}

/** Parse `sql` into statements; throws ParseFailure on what PostgreSQL would reject as syntax. */
export function parseStatements(sql: string): RawStatement[] {
  let result: ReturnType<LibPgQuery['parseSync']>;
  try {
    result = lib.parseSync(sql);
  } catch (err) {
    const details = (err as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    throw new ParseFailure((err as Error).message, details?.cursorPosition ?? 0);
  }
  return (result.stmts ?? []).map((s) => ({
    stmt: s.stmt ?? ({} as Node),
    location: s.stmt_location ?? 0,
    length: s.stmt_len || undefined,
  }));
}

/** The tokens of `sql` (comments included), offsets in bytes; throws ParseFailure on an unterminated one. */
export function scanTokens(sql: string): ScanToken[] {
  try {
    return lib.scanSync(sql).tokens;
  } catch (err) {
    const details = (err as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    throw new ParseFailure((err as Error).message, details?.cursorPosition ?? 0);
  }
}
