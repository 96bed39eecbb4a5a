/**
 * Lint of pending migrations: statements that break the version still serving traffic.
 * Destructive ones (data is lost or rewritten) fail the run unless allowed; the others are
 * reported. A table created earlier in the same batch is new: the running version cannot
 * depend on it, so changes to it are not findings.
 */
import type { SqlStatement } from './sql-split.js';

/** What a finding is about. */
export type LintRule =
  | 'drop-table'
  | 'drop-column'
  | 'alter-column-type'
  | 'truncate'
  | 'rename'
  | 'set-not-null'
  | 'add-not-null-column'
  | 'index-without-concurrently';

/** A statement that breaks the running version. */
export interface Finding {
  /** The migration file, relative to the repository. */
  file: string;
  line: number;
  rule: LintRule;
  /** Data is lost or rewritten; fails the run unless allow-destructive. */
  destructive: boolean;
  /** Every finding breaks the version still serving traffic; kept explicit for consumers. */
  breaking: true;
  message: string;
  /** The statement, shortened to one line. */
  statement: string;
}

const DESTRUCTIVE: Record<LintRule, boolean> = {
  'drop-table': true,
  'drop-column': true,
  'alter-column-type': true,
  truncate: true,
  rename: false,
  'set-not-null': false,
  'add-not-null-column': false,
  'index-without-concurrently': false,
};

/** A file to lint: its path for messages and its statements. */
export interface LintInput {
  file: string;
  statements: SqlStatement[];
}

const NAME = String.raw`(?:"[^"]*"|[A-Za-z_][A-Za-z0-9_$]*)(?:\s*\.\s*(?:"[^"]*"|[A-Za-z_][A-Za-z0-9_$]*))*`;

/** Normalise a (possibly qualified, possibly quoted) name: unquoted parts lower-cased, `public.` dropped. */
export function tableKey(name: string): string {
  const parts = name.match(/"[^"]*"|[^.\s]+/g) ?? [];
  const norm = parts.map((p) => (p.startsWith('"') ? p.slice(1, -1) : p.toLowerCase()));
  if (norm.length > 1 && norm[0] === 'public') norm.shift();
  return norm.join('.');
}

/** Split a list at top-level commas (not inside parentheses). */
function topLevel(list: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of list) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** Lint files in the order they will run; tables created earlier in the batch are new. */
export function lintMigrations(files: LintInput[]): Finding[] {
  const created = new Set<string>();
  const findings: Finding[] = [];
  for (const f of files) {
    const defaults = columnsGivenDefaults(f.statements);
    for (const s of f.statements) {
      const add = (rule: LintRule, message: string) =>
        findings.push({
          file: f.file,
          line: s.line,
          rule,
          destructive: DESTRUCTIVE[rule],
          breaking: true,
          message,
          statement: s.code.length > 100 ? `${s.code.slice(0, 97)}...` : s.code,
        });
      lintStatement(s.code, created, defaults, add);
    }
  }
  return findings;
}

/** `table.column` keys that the file gives a default (ALTER COLUMN … SET DEFAULT). */
function columnsGivenDefaults(statements: SqlStatement[]): Set<string> {
  const out = new Set<string>();
  const re = new RegExp(String.raw`^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(${NAME})\s+(.*)$`, 'i');
  for (const s of statements) {
    const m = re.exec(s.code);
    if (!m) continue;
    for (const action of topLevel(m[2])) {
      const d = new RegExp(String.raw`^ALTER\s+(?:COLUMN\s+)?(${NAME})\s+SET\s+DEFAULT\b`, 'i').exec(action);
      if (d) out.add(`${tableKey(m[1])}.${tableKey(d[1])}`);
    }
  }
  return out;
}

function lintStatement(
  code: string,
  created: Set<string>,
  defaults: Set<string>,
  add: (rule: LintRule, message: string) => void,
): void {
  let m: RegExpExecArray | null;
  const existing = (name: string) => !created.has(tableKey(name));

  if (
    (m = new RegExp(
      String.raw`^CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(${NAME})`,
      'i',
    ).exec(code))
  ) {
    created.add(tableKey(m[1]));
    return;
  }
  if (
    (m = new RegExp(String.raw`^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(.*?)(?:\s+(?:CASCADE|RESTRICT))?$`, 'i').exec(code))
  ) {
    for (const t of topLevel(m[1]).filter(existing))
      add(
        'drop-table',
        `DROP TABLE ${t}: the running version may still read or write it; drop it in a later release, once no deployed version uses it`,
      );
    return;
  }
  if (
    (m = new RegExp(
      String.raw`^TRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?(.*?)(?:\s+(?:RESTART|CONTINUE)\s+IDENTITY)?(?:\s+(?:CASCADE|RESTRICT))?$`,
      'i',
    ).exec(code))
  ) {
    const tables = topLevel(m[1])
      .map((t) => t.replace(/\s*\*$/, ''))
      .filter(existing);
    if (tables.length)
      add('truncate', `TRUNCATE ${tables.join(', ')}: deletes every row the running version is serving`);
    return;
  }
  if (
    (m = new RegExp(
      String.raw`^CREATE\s+(?:UNIQUE\s+)?INDEX\s+(CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(?:${NAME}\s+)?ON\s+(?:ONLY\s+)?(${NAME})`,
      'i',
    ).exec(code))
  ) {
    if (!m[1] && existing(m[2]))
      add(
        'index-without-concurrently',
        `CREATE INDEX on ${m[2]} without CONCURRENTLY blocks its writes while the index builds; use CREATE INDEX CONCURRENTLY in a file starting with -- slipway:no-transaction`,
      );
    return;
  }
  if (
    (m = new RegExp(String.raw`^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(${NAME})\s*\*?\s+(.*)$`, 'i').exec(
      code,
    ))
  ) {
    const table = m[1];
    if (!existing(table)) return;
    for (const action of topLevel(m[2])) lintAlterAction(table, action, defaults, add);
  }
}

function lintAlterAction(
  table: string,
  action: string,
  defaults: Set<string>,
  add: (rule: LintRule, message: string) => void,
): void {
  let m: RegExpExecArray | null;
  if (/^DROP\s+CONSTRAINT\b/i.test(action)) return;
  if ((m = new RegExp(String.raw`^DROP\s+(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?(${NAME})`, 'i').exec(action))) {
    add(
      'drop-column',
      `DROP COLUMN ${table}.${m[1]}: the running version may still read or write it; drop it in a later release, once no deployed version uses it`,
    );
  } else if (
    (m = new RegExp(String.raw`^ALTER\s+(?:COLUMN\s+)?(${NAME})\s+(?:SET\s+DATA\s+)?TYPE\b`, 'i').exec(action))
  ) {
    add(
      'alter-column-type',
      `ALTER COLUMN ${table}.${m[1]} TYPE rewrites the column under the running version (and can lose data); add a new column and backfill instead`,
    );
  } else if ((m = new RegExp(String.raw`^ALTER\s+(?:COLUMN\s+)?(${NAME})\s+SET\s+NOT\s+NULL\b`, 'i').exec(action))) {
    if (!defaults.has(`${tableKey(table)}.${tableKey(m[1])}`))
      add(
        'set-not-null',
        `SET NOT NULL on ${table}.${m[1]} without a default: inserts from the running version that omit it will fail; set a default first`,
      );
  } else if (
    (m = new RegExp(String.raw`^ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(${NAME})\s+(.*)$`, 'i').exec(action))
  ) {
    if (/^(CONSTRAINT|PRIMARY|UNIQUE|FOREIGN|CHECK|EXCLUDE)$/i.test(m[1])) return;
    const def = m[2];
    if (/\bNOT\s+NULL\b/i.test(def) && !/\b(DEFAULT|GENERATED)\b/i.test(def))
      add(
        'add-not-null-column',
        `ADD COLUMN ${table}.${m[1]} NOT NULL without a default: inserts from the running version will fail (and a non-empty table rejects it); give it a default`,
      );
  } else if ((m = /^RENAME\s+(?:(COLUMN|CONSTRAINT)\s+)?(.*)$/i.exec(action))) {
    if (m[1]?.toUpperCase() === 'CONSTRAINT') return;
    const what = /^TO\s/i.test(m[2]) ? `table ${table}` : `column ${table}.${m[2].split(/\s+TO\s+/i)[0]}`;
    add(
      'rename',
      `RENAME of ${what}: the running version still uses the old name; add the new name alongside and drop the old one in a later release`,
    );
  }
}
