/**
 * Lint of pending migrations, on the syntax trees of PostgreSQL's own parser: statements
 * that break the version still serving traffic, or lock a live table for long (the checks
 * of Squawk, the reference migration linter). Destructive ones (data is lost or rewritten)
 * fail the run unless allowed; the others are reported. A table created earlier in the same
 * batch is new: the running version cannot depend on it, so changes to it are not findings.
 */
import { ANY_FORMAT_NO_TRANSACTION_ADVICE, shownStatement } from './advice.js';
import { nodeOf, type SqlStatement } from './sql-split.js';

/** What a finding is about. */
export type LintRule =
  | 'drop-table'
  | 'drop-object'
  | 'drop-column'
  | 'drop-database'
  | 'alter-column-type'
  | 'truncate'
  | 'rename'
  | 'set-not-null'
  | 'add-not-null-column'
  | 'index-without-concurrently'
  | 'foreign-key-without-not-valid'
  | 'check-without-not-valid'
  | 'unique-constraint'
  | 'vacuum-full'
  | 'cluster'
  | 'lock-timeout';

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
  /** What is wrong and how to do it safely. */
  message: string;
  /** The whole statement on one line (comments dropped; cut only past a few hundred characters, and said so). */
  statement: string;
}

const DESTRUCTIVE: Record<LintRule, boolean> = {
  'drop-table': true,
  'drop-object': true,
  'drop-column': true,
  'drop-database': true,
  'alter-column-type': true,
  truncate: true,
  rename: false,
  'set-not-null': false,
  'add-not-null-column': false,
  'index-without-concurrently': false,
  'foreign-key-without-not-valid': false,
  'check-without-not-valid': false,
  'unique-constraint': false,
  'vacuum-full': false,
  cluster: false,
  'lock-timeout': false,
};

/**
 * Rules about how long a statement locks, not about the schema it leaves: the previous
 * version still runs on the result (deploy may roll back to it).
 */
export const LOCK_ONLY_RULES: ReadonlySet<LintRule> = new Set<LintRule>([
  'index-without-concurrently',
  'foreign-key-without-not-valid',
  'check-without-not-valid',
  'unique-constraint',
  'vacuum-full',
  'cluster',
  'lock-timeout',
]);

/** A file to lint: its path for messages, its statements, and how its format runs a file outside a transaction. */
export interface LintInput {
  file: string;
  statements: SqlStatement[];
  /** The format's advice (`MigrationFormat.noTransactionAdvice`); without it, advice true for every format. */
  noTransactionAdvice?: string;
}

/** Normalise a (possibly qualified, possibly quoted) name: unquoted parts lower-cased, `public.` dropped. */
export function tableKey(name: string): string {
  const parts = name.match(/"[^"]*"|[^.\s]+/g) ?? [];
  const norm = parts.map((p) => (p.startsWith('"') ? p.slice(1, -1) : p.toLowerCase()));
  if (norm.length > 1 && norm[0] === 'public') norm.shift();
  return norm.join('.');
}

// The parts of PostgreSQL's syntax tree the rules read.
interface RangeVar {
  schemaname?: string;
  relname?: string;
}
interface StringNode {
  String?: { sval?: string };
}
interface Constraint {
  contype?: string;
  conname?: string;
  skip_validation?: boolean;
  pktable?: RangeVar;
  /** USING INDEX: the constraint adopts an index built before (CONCURRENTLY), so nothing is built under the lock. */
  indexname?: string;
}
interface ColumnDef {
  colname?: string;
  typeName?: { names?: StringNode[] };
  constraints?: { Constraint?: Constraint }[];
}
interface AlterTableCmd {
  subtype?: string;
  name?: string;
  def?: { ColumnDef?: ColumnDef; Constraint?: Constraint };
}
interface Tree {
  CreateStmt?: { relation?: RangeVar };
  CreateTableAsStmt?: { into?: { rel?: RangeVar }; objtype?: string };
  DropStmt?: { objects?: { List?: { items?: StringNode[] } }[]; removeType?: string; behavior?: string };
  DropdbStmt?: { dbname?: string };
  TruncateStmt?: { relations?: { RangeVar?: RangeVar }[] };
  IndexStmt?: { relation?: RangeVar; concurrent?: boolean; idxname?: string };
  AlterTableStmt?: { relation?: RangeVar; cmds?: { AlterTableCmd?: AlterTableCmd }[]; objtype?: string };
  RenameStmt?: { renameType?: string; relation?: RangeVar; subname?: string; newname?: string };
  VacuumStmt?: {
    options?: { DefElem?: { defname?: string; arg?: unknown } }[];
    rels?: { VacuumRelation?: { relation?: RangeVar } }[];
  };
  ClusterStmt?: { relation?: RangeVar };
  VariableSetStmt?: {
    name?: string;
    kind?: string;
    args?: { A_Const?: { ival?: { ival?: number }; sval?: { sval?: string } } }[];
  };
}

const SERIAL = new Set(['serial', 'bigserial', 'smallserial', 'serial2', 'serial4', 'serial8']);

function keyOf(rel: RangeVar | undefined): string {
  if (!rel?.relname) return '';
  return rel.schemaname && rel.schemaname !== 'public' ? `${rel.schemaname}.${rel.relname}` : rel.relname;
}

function nameOf(rel: RangeVar | undefined): string {
  return keyOf(rel) || '?';
}

function treeOf(s: SqlStatement): Tree {
  return nodeOf(s) as Tree;
}

/** What one statement says, for the rules: a finding's rule and message. */
type Add = (rule: LintRule, message: string) => void;

/** Lint files in the order they will run; tables created earlier in the batch are new. */
export function lintMigrations(files: LintInput[]): Finding[] {
  const created = new Set<string>();
  const findings: Finding[] = [];
  for (const f of files) {
    const trees = f.statements.map(treeOf);
    const defaults = columnsGivenDefaults(trees);
    let lockTimeoutSet = false;
    let lockAdvised = false;
    for (const [i, s] of f.statements.entries()) {
      const tree = trees[i];
      if (setsLockTimeout(tree, s)) lockTimeoutSet = true;
      const locks = locksExistingTable(tree, created);
      const before = findings.length;
      let statement: string | undefined;
      const add: Add = (rule, message) =>
        findings.push({
          file: f.file,
          line: s.line,
          rule,
          destructive: DESTRUCTIVE[rule],
          breaking: true,
          message,
          statement: (statement ??= shownStatement(s.text)),
        });
      lintStatement(tree, { created, defaults, noTransactionAdvice: f.noTransactionAdvice }, add);
      if (locks && !lockTimeoutSet && !lockAdvised) {
        // Once per file, on its first statement that waits for a lock on a live table.
        lockAdvised = true;
        const advice = `; and set lock_timeout before it (SET lock_timeout = '5s'; SET LOCAL inside a transaction) so that, while it waits for its lock on ${locks}, it cannot queue every query on ${locks} behind it`;
        if (findings.length > before) findings[before].message += advice;
        else
          add(
            'lock-timeout',
            `${locks} is locked with no lock_timeout set earlier in the migration: while the statement waits for its lock, every query on ${locks} queues behind it; start the migration with SET lock_timeout = '5s' (SET LOCAL inside a transaction) and retry on timeout`,
          );
      }
    }
  }
  for (const f of findings) if (!f.message.includes(f.statement)) f.message += ` — in: ${f.statement}`;
  return findings;
}

/** `table.column` keys that the file gives a default (ALTER COLUMN … SET DEFAULT). */
function columnsGivenDefaults(trees: Tree[]): Set<string> {
  const out = new Set<string>();
  for (const t of trees) {
    const alter = t.AlterTableStmt;
    if (!alter) continue;
    for (const c of alter.cmds ?? [])
      if (c.AlterTableCmd?.subtype === 'AT_ColumnDefault' && c.AlterTableCmd.def)
        out.add(`${keyOf(alter.relation)}.${c.AlterTableCmd.name}`);
  }
  return out;
}

function setsLockTimeout(tree: Tree, s: SqlStatement): boolean {
  const set = tree.VariableSetStmt;
  if (set?.name === 'lock_timeout' && set.kind === 'VAR_SET_VALUE') {
    const v = set.args?.[0]?.A_Const;
    const value = v?.ival ? String(v.ival.ival ?? 0) : (v?.sval?.sval ?? '');
    return !/^\s*0+\s*(ms|s|min|h|d)?\s*$/i.test(value);
  }
  return /\bset_config\s*\(\s*'lock_timeout'\s*,\s*'(?!0+\s*(ms|s|min|h|d)?')/i.test(s.text);
}

/** The existing table a statement waits for a blocking lock on, or '' when none. */
function locksExistingTable(tree: Tree, created: Set<string>): string {
  const live = (rel: RangeVar | undefined) => (rel?.relname && !created.has(keyOf(rel)) ? nameOf(rel) : '');
  if (tree.AlterTableStmt && tree.AlterTableStmt.objtype === 'OBJECT_TABLE') return live(tree.AlterTableStmt.relation);
  if (tree.IndexStmt && !tree.IndexStmt.concurrent) return live(tree.IndexStmt.relation);
  if (tree.RenameStmt && /^OBJECT_(TABLE|COLUMN)$/.test(tree.RenameStmt.renameType ?? ''))
    return live(tree.RenameStmt.relation);
  if (tree.TruncateStmt) return tree.TruncateStmt.relations?.map((r) => live(r.RangeVar)).find(Boolean) ?? '';
  if (tree.DropStmt?.removeType === 'OBJECT_TABLE')
    return (tree.DropStmt.objects ?? []).map((o) => live(rangeOfList(o.List?.items))).find(Boolean) ?? '';
  if (tree.ClusterStmt) return live(tree.ClusterStmt.relation);
  if (tree.VacuumStmt && isFull(tree.VacuumStmt))
    return tree.VacuumStmt.rels?.map((r) => live(r.VacuumRelation?.relation)).find(Boolean) ?? '';
  return '';
}

/** Objects whose DROP loses data on its own, by the parser's removeType. */
const DATA_OBJECTS: Record<string, string> = {
  OBJECT_SCHEMA: 'SCHEMA',
  OBJECT_TYPE: 'TYPE',
  OBJECT_DOMAIN: 'DOMAIN',
  OBJECT_SEQUENCE: 'SEQUENCE',
  OBJECT_MATVIEW: 'MATERIALIZED VIEW',
};

/** The dotted names in a DROP's objects (`app`, `public.mood`), whatever node shape holds them. */
function stringsIn(objects: unknown): string[] {
  const names: string[] = [];
  const walk = (node: unknown, parts: string[]): void => {
    if (Array.isArray(node)) node.forEach((n) => walk(n, parts));
    else if (node && typeof node === 'object')
      for (const [k, v] of Object.entries(node)) {
        if (k === 'String' && v && typeof v === 'object' && 'sval' in v) parts.push(String(v.sval));
        else walk(v, parts);
      }
  };
  for (const o of (objects as unknown[]) ?? []) {
    const parts: string[] = [];
    walk(o, parts);
    if (parts.length) names.push(parts.join('.'));
  }
  return names;
}

function rangeOfList(items: StringNode[] | undefined): RangeVar {
  const parts = (items ?? []).map((i) => i.String?.sval ?? '');
  return parts.length > 1
    ? { schemaname: parts[parts.length - 2], relname: parts[parts.length - 1] }
    : { relname: parts[0] };
}

function isFull(vacuum: NonNullable<Tree['VacuumStmt']>): boolean {
  return (vacuum.options ?? []).some((o) => o.DefElem?.defname === 'full');
}

function lintStatement(
  tree: Tree,
  ctx: { created: Set<string>; defaults: Set<string>; noTransactionAdvice?: string },
  add: Add,
): void {
  const { created } = ctx;
  const existing = (rel: RangeVar | undefined) => !!rel?.relname && !created.has(keyOf(rel));

  if (tree.CreateStmt) {
    created.add(keyOf(tree.CreateStmt.relation));
    return;
  }
  if (tree.CreateTableAsStmt?.into?.rel) {
    created.add(keyOf(tree.CreateTableAsStmt.into.rel));
    return;
  }
  // A schema, a type or a sequence holds data, and CASCADE removes whatever depends on the
  // object (a schema's tables, the columns of a type): both lose data DROP TABLE's rule misses.
  const drop = tree.DropStmt;
  if (drop && drop.removeType !== 'OBJECT_TABLE') {
    const kind = DATA_OBJECTS[drop.removeType ?? ''];
    const cascade = drop.behavior === 'DROP_CASCADE';
    if (kind || cascade) {
      const names = stringsIn(drop.objects).join(', ');
      add(
        'drop-object',
        `DROP ${kind ?? (drop.removeType ?? '').replace(/^OBJECT_/, '')} ${names}${cascade ? ' CASCADE' : ''}: ${cascade ? 'removes every object that depends on it, with their data' : 'removes what it holds'}, which the running version may still use; drop it in a later release, once no deployed version uses it`,
      );
      return;
    }
  }
  if (tree.DropStmt?.removeType === 'OBJECT_TABLE') {
    for (const rel of (tree.DropStmt.objects ?? []).map((o) => rangeOfList(o.List?.items)).filter(existing))
      add(
        'drop-table',
        `DROP TABLE ${nameOf(rel)}: the running version may still read or write it; drop it in a later release, once no deployed version uses it`,
      );
    return;
  }
  if (tree.DropdbStmt) {
    add(
      'drop-database',
      `DROP DATABASE ${tree.DropdbStmt.dbname ?? ''}: deletes every table in it, under the running version; drop a database by hand, once nothing uses it, not in a migration`,
    );
    return;
  }
  if (tree.TruncateStmt) {
    const tables = (tree.TruncateStmt.relations ?? [])
      .map((r) => r.RangeVar)
      .filter(existing)
      .map(nameOf);
    if (tables.length)
      add(
        'truncate',
        `TRUNCATE ${tables.join(', ')}: deletes every row the running version is serving; delete the rows in a data migration the running version can live with, or drop the table in a later release`,
      );
    return;
  }
  if (tree.IndexStmt) {
    if (!tree.IndexStmt.concurrent && existing(tree.IndexStmt.relation))
      add(
        'index-without-concurrently',
        `CREATE INDEX on ${nameOf(tree.IndexStmt.relation)} without CONCURRENTLY blocks its writes while the index builds; use CREATE INDEX CONCURRENTLY in a migration of its own, and ${ctx.noTransactionAdvice ?? ANY_FORMAT_NO_TRANSACTION_ADVICE}`,
      );
    return;
  }
  if (tree.VacuumStmt && isFull(tree.VacuumStmt)) {
    const rels = (tree.VacuumStmt.rels ?? []).map((r) => nameOf(r.VacuumRelation?.relation));
    add(
      'vacuum-full',
      `VACUUM FULL${rels.length ? ` ${rels.join(', ')}` : ''} rewrites ${rels.length ? 'the table' : 'every table'} under an ACCESS EXCLUSIVE lock, blocking reads and writes until it ends; run plain VACUUM, or pg_repack to reclaim space online, outside the deploy`,
    );
    return;
  }
  if (tree.ClusterStmt) {
    const rel = tree.ClusterStmt.relation;
    add(
      'cluster',
      `CLUSTER${rel ? ` ${nameOf(rel)}` : ''} rewrites ${rel ? 'the table' : 'every clustered table'} under an ACCESS EXCLUSIVE lock, blocking reads and writes until it ends; use pg_repack to reorder a live table, outside the deploy`,
    );
    return;
  }
  if (tree.RenameStmt) {
    const r = tree.RenameStmt;
    if (r.renameType === 'OBJECT_TABLE') {
      if (!existing(r.relation)) {
        if (r.newname)
          created.add(
            r.relation?.schemaname && r.relation.schemaname !== 'public'
              ? `${r.relation.schemaname}.${r.newname}`
              : r.newname,
          );
        return;
      }
      add(
        'rename',
        `RENAME of table ${nameOf(r.relation)} to ${r.newname}: the running version still uses the old name; create the new table (or a view under the new name) alongside and drop the old one in a later release`,
      );
    } else if (r.renameType === 'OBJECT_COLUMN' && existing(r.relation)) {
      add(
        'rename',
        `RENAME of column ${nameOf(r.relation)}.${r.subname} to ${r.newname}: the running version still uses the old name; add the new column alongside, backfill it, and drop the old one in a later release`,
      );
    }
    return;
  }
  if (tree.AlterTableStmt && tree.AlterTableStmt.objtype === 'OBJECT_TABLE') {
    const rel = tree.AlterTableStmt.relation;
    if (!existing(rel)) return;
    for (const c of tree.AlterTableStmt.cmds ?? [])
      if (c.AlterTableCmd) lintAlterCommand(nameOf(rel), keyOf(rel), c.AlterTableCmd, ctx.defaults, add);
  }
}

function lintAlterCommand(table: string, key: string, cmd: AlterTableCmd, defaults: Set<string>, add: Add): void {
  switch (cmd.subtype) {
    case 'AT_DropColumn':
      add(
        'drop-column',
        `DROP COLUMN ${table}.${cmd.name}: the running version may still read or write it; drop it in a later release, once no deployed version uses it`,
      );
      return;
    case 'AT_AlterColumnType':
      add(
        'alter-column-type',
        `ALTER COLUMN ${table}.${cmd.name} TYPE rewrites the column under the running version (and can lose data), holding an ACCESS EXCLUSIVE lock while it does; add a new column and backfill instead`,
      );
      return;
    case 'AT_SetNotNull':
      if (!defaults.has(`${key}.${cmd.name}`))
        add(
          'set-not-null',
          `SET NOT NULL on ${table}.${cmd.name} without a default: inserts from the running version that omit it will fail, and checking every row holds an ACCESS EXCLUSIVE lock; set a default first, and on a large table add CHECK (${cmd.name} IS NOT NULL) NOT VALID, VALIDATE it in a later migration, then SET NOT NULL`,
        );
      return;
    case 'AT_AddColumn': {
      const col = cmd.def?.ColumnDef;
      if (!col) return;
      const kinds = (col.constraints ?? []).map((c) => c.Constraint?.contype ?? '');
      const type = col.typeName?.names?.[col.typeName.names.length - 1]?.String?.sval ?? '';
      const filled =
        kinds.some((k) => k === 'CONSTR_DEFAULT' || k === 'CONSTR_GENERATED' || k === 'CONSTR_IDENTITY') ||
        SERIAL.has(type);
      if ((kinds.includes('CONSTR_NOTNULL') || kinds.includes('CONSTR_PRIMARY')) && !filled)
        add(
          'add-not-null-column',
          `ADD COLUMN ${table}.${col.colname} NOT NULL without a default: inserts from the running version will fail (and a non-empty table rejects it); give it a default`,
        );
      if (kinds.includes('CONSTR_UNIQUE') || kinds.includes('CONSTR_PRIMARY'))
        add(
          'unique-constraint',
          `ADD COLUMN ${table}.${col.colname} ${kinds.includes('CONSTR_PRIMARY') ? 'PRIMARY KEY' : 'UNIQUE'} builds its index over every row of ${table} while reads and writes wait (ACCESS EXCLUSIVE lock); add the column, CREATE UNIQUE INDEX CONCURRENTLY in a migration of its own, then ADD CONSTRAINT … ${kinds.includes('CONSTR_PRIMARY') ? 'PRIMARY KEY' : 'UNIQUE'} USING INDEX it`,
        );
      for (const c of col.constraints ?? [])
        if (c.Constraint?.contype === 'CONSTR_FOREIGN')
          add(
            'foreign-key-without-not-valid',
            `ADD COLUMN ${table}.${col.colname} REFERENCES ${nameOf(c.Constraint.pktable)} checks every row while it blocks writes to both tables; add the column first, then ADD CONSTRAINT … FOREIGN KEY … NOT VALID, and VALIDATE CONSTRAINT in a later migration`,
          );
      return;
    }
    case 'AT_AddConstraint': {
      const con = cmd.def?.Constraint;
      if (!con || con.skip_validation) return;
      const name = con.conname ? ` ${con.conname}` : '';
      // VALIDATE needs the constraint's name: an unnamed one must be given one first.
      const validate = `ALTER TABLE ${table} VALIDATE CONSTRAINT ${con.conname ?? '<its name>'}`;
      if (con.contype === 'CONSTR_FOREIGN')
        add(
          'foreign-key-without-not-valid',
          `ADD CONSTRAINT${name} FOREIGN KEY on ${table} without NOT VALID checks every row while it blocks writes to ${table} and ${nameOf(con.pktable)}; add it NOT VALID (named), then ${validate} in a later migration (that check takes no blocking lock)`,
        );
      else if ((con.contype === 'CONSTR_UNIQUE' || con.contype === 'CONSTR_PRIMARY') && !con.indexname) {
        const kind = con.contype === 'CONSTR_PRIMARY' ? 'PRIMARY KEY' : 'UNIQUE';
        add(
          'unique-constraint',
          `ADD CONSTRAINT${name} ${kind} on ${table} builds its index while reads and writes of ${table} wait (ACCESS EXCLUSIVE lock); CREATE UNIQUE INDEX CONCURRENTLY in a migration of its own, then ALTER TABLE ${table} ADD CONSTRAINT ${con.conname ?? '<name>'} ${kind} USING INDEX <that index>`,
        );
      } else if (con.contype === 'CONSTR_CHECK')
        add(
          'check-without-not-valid',
          `ADD CONSTRAINT${name} CHECK on ${table} without NOT VALID checks every row under an ACCESS EXCLUSIVE lock; add it NOT VALID (named), then ${validate} in a later migration (that check takes no blocking lock)`,
        );
      return;
    }
  }
}
