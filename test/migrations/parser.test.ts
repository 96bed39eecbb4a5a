/**
 * The splitter and the lint on PostgreSQL's own parser: a corpus of unsafe statements (every
 * rule, at its line), a corpus of safe ones (nothing), the splitter agreeing with the parser
 * on the hard cases, syntax errors at their line, and whole statements in the planner's errors.
 */
import { describe, expect, it } from '@jest/globals';
import { isUserError } from '../../src/core/errors.js';
import { lintMigrations } from '../../src/migrations/lint.js';
import { parseStatements } from '../../src/migrations/pg-parser.js';
import { planRun } from '../../src/migrations/plan.js';
import type { MigrationFile } from '../../src/migrations/files.js';
import { splitSql, SqlSyntaxError } from '../../src/migrations/sql-split.js';

const findings = (...files: string[]) =>
  lintMigrations(files.map((sql, i) => ({ file: `m/${i + 1}.sql`, statements: splitSql(sql).statements })));
const rules = (...files: string[]) => findings(...files).map((f) => `${f.file}:${f.line} ${f.rule}`);

/** A migration file as the reader makes it, for the planner. */
function migration(name: string, sql: string, noTransaction = false): MigrationFile {
  const [version, rest] = name.split('_', 2);
  return {
    acceptedChecksums: [],
    version: BigInt(version),
    versionText: version,
    name: rest.replace(/\.sql$/, ''),
    file: `db/${name}`,
    checksum: 'x'.repeat(64),
    sql,
    noTransaction,
  };
}
/** A syntax tree without its byte positions, which depend on where the statement sits. */
const withoutLocations = (tree: unknown): unknown =>
  JSON.parse(JSON.stringify(tree), (key, value: unknown) => (key === 'location' ? undefined : value));
const plan = (...files: MigrationFile[]) => planRun(files, [], { target: null, outOfOrder: false });
const planError = (...files: MigrationFile[]) => {
  try {
    plan(...files);
  } catch (err) {
    expect(isUserError(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected the plan to fail');
};

describe('the unsafe corpus: every rule at its line', () => {
  const unsafe = [
    /* 1 */ 'ALTER TABLE users ADD COLUMN age int NOT NULL;',
    /* 2 */ 'ALTER TABLE users ALTER COLUMN email SET NOT NULL;',
    /* 3 */ 'ALTER TABLE orders ADD CONSTRAINT orders_user FOREIGN KEY (user_id) REFERENCES users (id);',
    /* 4 */ 'ALTER TABLE orders ADD CONSTRAINT positive CHECK (total > 0);',
    /* 5 */ 'CREATE INDEX orders_total ON orders (total);',
    /* 6 */ 'ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2);',
    /* 7 */ 'ALTER TABLE orders RENAME COLUMN total TO amount;',
    /* 8 */ 'ALTER TABLE orders RENAME TO purchases;',
    /* 9 */ 'ALTER TABLE users DROP COLUMN legacy;',
    /* 10 */ 'DROP TABLE sessions;',
    /* 11 */ 'DROP DATABASE old_reports;',
    /* 12 */ 'VACUUM FULL events;',
    /* 13 */ 'CLUSTER events USING events_pkey;',
    /* 14 */ 'TRUNCATE audit;',
    /* 15 */ 'ALTER TABLE users ADD COLUMN team_id int REFERENCES teams;',
  ].join('\n');

  it('finds each rule on its line, destructive ones marked, the lock advice once', () => {
    const found = findings(unsafe);
    expect(found.map((f) => `${f.line} ${f.rule}${f.destructive ? '!' : ''}`)).toEqual([
      '1 add-not-null-column',
      '2 set-not-null',
      '3 foreign-key-without-not-valid',
      '4 check-without-not-valid',
      '5 index-without-concurrently',
      '6 alter-column-type!',
      '7 rename',
      '8 rename',
      '9 drop-column!',
      '10 drop-table!',
      '11 drop-database!',
      '12 vacuum-full',
      '13 cluster',
      '14 truncate!',
      '15 foreign-key-without-not-valid',
    ]);
    // The first lock on a live table, with no lock_timeout before it, carries the advice.
    expect(found[0].message).toMatch(/set lock_timeout before it/);
    expect(found.filter((f) => /lock_timeout/.test(f.message))).toHaveLength(1);
  });

  it('names the whole statement and how to do it safely', () => {
    const [fk] = findings(
      [
        "SET lock_timeout = '2s';",
        '-- a note',
        'ALTER TABLE orders',
        '  ADD CONSTRAINT orders_user_if_not_exists_check FOREIGN KEY (user_id) /* why */ REFERENCES users (id) ON DELETE CASCADE;',
      ].join('\n'),
    );
    expect(fk.line).toBe(3);
    expect(fk.statement).toBe(
      'ALTER TABLE orders ADD CONSTRAINT orders_user_if_not_exists_check FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE',
    );
    expect(fk.message).toContain(
      'add it NOT VALID (named), then ALTER TABLE orders VALIDATE CONSTRAINT orders_user_if_not_exists_check in a later migration',
    );
    expect(fk.message).toContain(`in: ${fk.statement}`);
  });

  it('reports a lock on a live table with no lock_timeout once per file; SET lock_timeout before it, or 0, decide', () => {
    expect(rules('ALTER TABLE users ADD COLUMN nick text;\nALTER TABLE users ADD COLUMN bio text;')).toEqual([
      'm/1.sql:1 lock-timeout',
    ]);
    expect(rules("SET lock_timeout = '3s';\nALTER TABLE users ADD COLUMN nick text;")).toEqual([]);
    expect(rules('SET LOCAL lock_timeout TO 3000;\nALTER TABLE users ADD COLUMN nick text;')).toEqual([]);
    expect(rules("SELECT set_config('lock_timeout', '3s', true);\nALTER TABLE users ADD COLUMN nick text;")).toEqual(
      [],
    );
    expect(rules('SET lock_timeout = 0;\nALTER TABLE users ADD COLUMN nick text;')).toEqual(['m/1.sql:2 lock-timeout']);
    expect(rules("ALTER TABLE users ADD COLUMN nick text;\nSET lock_timeout = '3s';")).toEqual([
      'm/1.sql:1 lock-timeout',
    ]);
  });
});

describe('statements made by other readers', () => {
  it('lints a statement that carries no syntax tree by parsing its text', () => {
    const made = { text: 'ALTER TABLE users DROP COLUMN legacy', code: '', offset: 0, line: 7 };
    expect(lintMigrations([{ file: 'goose/1_x.sql', statements: [made] }]).map((f) => [f.line, f.rule])).toEqual([
      [7, 'drop-column'],
    ]);
  });
});

describe('the safe corpus: nothing found', () => {
  it('finds nothing in the safe ways of doing the same things', () => {
    const safe = [
      "SET lock_timeout = '5s';",
      'ALTER TABLE users ADD COLUMN age int NOT NULL DEFAULT 0;',
      'ALTER TABLE users ADD COLUMN id2 bigserial NOT NULL;',
      'ALTER TABLE users ADD COLUMN nick text;',
      "ALTER TABLE users ALTER COLUMN status SET DEFAULT 'new', ALTER COLUMN status SET NOT NULL;",
      'ALTER TABLE orders ADD CONSTRAINT orders_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;',
      'ALTER TABLE orders VALIDATE CONSTRAINT orders_user;',
      'ALTER TABLE orders ADD CONSTRAINT positive CHECK (total > 0) NOT VALID;',
      'ALTER TABLE orders RENAME CONSTRAINT a TO b;',
      'ALTER INDEX orders_total RENAME TO orders_amount;',
      'VACUUM ANALYZE events;',
      'ANALYZE events;',
      'CREATE TABLE fresh (id int PRIMARY KEY, owner int NOT NULL REFERENCES users);',
      'CREATE INDEX fresh_owner ON fresh (owner);',
      'ALTER TABLE fresh ADD COLUMN n int NOT NULL, ALTER COLUMN owner TYPE bigint;',
      'ALTER TABLE fresh RENAME TO newer;',
      'ALTER TABLE newer RENAME COLUMN n TO m;',
      'DROP TABLE newer;',
      "INSERT INTO notes VALUES ('DROP TABLE users; VACUUM FULL');",
      '-- DROP TABLE users;',
      '/* ALTER TABLE users DROP COLUMN x; /* nested */ */',
      'CREATE FUNCTION f() RETURNS int AS $$ BEGIN TRUNCATE users; RETURN 1; END $$ LANGUAGE plpgsql;',
    ].join('\n');
    expect(rules(safe, '-- slipway:no-transaction\nCREATE INDEX CONCURRENTLY users_nick ON users (nick);')).toEqual([]);
  });
});

describe('the splitter is the parser', () => {
  const hard = [
    /* 1 */ '-- a comment; with a semicolon',
    /* 2 */ '/* a block; /* nested; */ still; */ SELECT 1;',
    /* 3 */ 'CREATE FUNCTION f() RETURNS int AS $body$',
    /* 4 */ '  SELECT 1; $notend$ ; $$;',
    /* 5 */ '$body$ LANGUAGE sql;',
    /* 6 */ 'CREATE FUNCTION g(a int) RETURNS int LANGUAGE sql',
    /* 7 */ 'BEGIN ATOMIC',
    /* 8 */ '  SELECT a + 1;',
    /* 9 */ '  SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;',
    /* 10 */ 'END;',
    /* 11 */ 'COPY users (id, name) FROM stdin;',
    /* 12 */ "1\tO'Brien; DROP TABLE users;",
    /* 13 */ '2\t/* not a comment',
    /* 14 */ '\\.',
    /* 15 */ "INSERT INTO t VALUES ('é; ü', E'it\\'s;');",
    /* 16 */ 'SELECT 2',
  ].join('\n');

  it('finds the statements and lines the parser finds: dollar quotes, BEGIN ATOMIC, nested comments, COPY data', () => {
    const { statements, unterminated } = splitSql(hard);
    expect(unterminated).toBeNull();
    expect(statements.map((s) => s.line)).toEqual([2, 3, 6, 11, 15, 16]);
    expect(statements[1].text).toContain('SELECT 1; $notend$ ; $$;\n$body$ LANGUAGE sql');
    expect(statements[2].text).toMatch(/^CREATE FUNCTION g[\s\S]*END$/);
    expect(statements[3].text).toBe('COPY users (id, name) FROM stdin');
    expect(statements[3].copyData).toBe("1\tO'Brien; DROP TABLE users;\n2\t/* not a comment\n");
    expect(statements[4].text).toBe("INSERT INTO t VALUES ('é; ü', E'it\\'s;')");
    // Every statement is exactly one statement to the parser, and the same one.
    for (const s of statements) {
      const alone = parseStatements(s.text);
      expect(alone).toHaveLength(1);
      expect(withoutLocations(alone[0].stmt)).toEqual(withoutLocations(s.node));
    }
    // Nothing in the COPY data is linted as SQL.
    expect(lintMigrations([{ file: 'x.sql', statements }])).toEqual([]);
  });

  it('reports a COPY whose data never ends, at the data', () => {
    expect(splitSql('SELECT 1;\nCOPY t FROM stdin;\n1\n2\n').unterminated).toEqual({
      what: 'COPY … FROM stdin data (no \\. line ends it)',
      line: 3,
    });
  });

  it('reports a syntax error at its line and column', () => {
    const sql = 'CREATE TABLE a (id int);\n\n-- é\nCREATE TABEL b (id int);\nSELECT 1;';
    let error: unknown;
    try {
      splitSql(sql);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SqlSyntaxError);
    expect((error as SqlSyntaxError).line).toBe(4);
    expect((error as SqlSyntaxError).column).toBe(8);
    expect((error as SqlSyntaxError).inFile('db/1_a.sql').message).toBe(
      'db/1_a.sql:4: syntax error at or near "TABEL" (PostgreSQL\'s parser rejects this statement; nothing was run)',
    );
  });
});

describe('the planner on parsed statements', () => {
  it('refuses a syntax error at its file and line before anything runs', () => {
    expect(
      planError(migration('1_a.sql', 'CREATE TABLE a (id int);'), migration('2_b.sql', 'SELECT 1;\nSELEC 2;')),
    ).toBe(
      'db/2_b.sql:2: syntax error at or near "SELEC" (PostgreSQL\'s parser rejects this statement; nothing was run)',
    );
  });

  it('quotes the whole statement that cannot run in a transaction, and how to run it outside one', () => {
    const message = planError(
      migration('1_idx.sql', 'SELECT 1;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS users_email ON users (email);\n'),
    );
    expect(message).toBe(
      'db/1_idx.sql:2: CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email ON users (email) cannot run inside a transaction; start the file with -- slipway:no-transaction (and keep that migration to this statement)',
    );
  });

  it('lints with the advice of the file’s format, and with advice true for every format when it is not given', () => {
    const index = 'CREATE INDEX users_email ON users (email);';
    const [goose] = lintMigrations([
      {
        file: 'm/1.sql',
        statements: splitSql(index).statements,
        noTransactionAdvice: 'add -- +goose NO TRANSACTION to the file',
      },
    ]);
    expect(goose.message).toContain(
      'use CREATE INDEX CONCURRENTLY in a migration of its own, and add -- +goose NO TRANSACTION to the file',
    );
    const [unknown] = findings(index);
    expect(unknown.message).toContain(
      "and run it outside a transaction (a Slipway file starts with -- slipway:no-transaction; another tool's file uses that tool's marker, e.g. -- +goose NO TRANSACTION)",
    );
  });

  it('cuts a very long statement at a token with …, never at a keyword', () => {
    const columns = Array.from({ length: 80 }, (_, i) => `column_number_${i}`).join(', ');
    const message = planError(migration('1_idx.sql', `CREATE INDEX CONCURRENTLY wide ON t (${columns});`));
    expect(message).toMatch(
      /^db\/1_idx\.sql:1: CREATE INDEX CONCURRENTLY wide ON t \(column_number_0, column_number_1,/,
    );
    expect(message).toMatch(/column_number_\d+, … \(\d+ characters\) cannot run inside a transaction;/);
  });

  it('refuses transaction control, but lets savepoints through', () => {
    expect(planError(migration('1_a.sql', 'INSERT INTO t VALUES (1);\nCOMMIT;'))).toMatch(
      /^db\/1_a\.sql:2: COMMIT would end the transaction Slipway runs this migration in/,
    );
    expect(
      plan(migration('1_a.sql', 'SAVEPOINT s;\nINSERT INTO t VALUES (1);\nROLLBACK TO SAVEPOINT s;')).steps,
    ).toHaveLength(1);
    expect(plan(migration('1_a.sql', 'BEGIN;\nCOMMIT;', true)).steps).toHaveLength(1);
  });

  it('refuses inline COPY data, which only psql can send, at its line', () => {
    expect(planError(migration('1_seed.sql', 'CREATE TABLE t (id int);\nCOPY t (id) FROM stdin;\n1\n\\.\n'))).toBe(
      'db/1_seed.sql:2: COPY t (id) FROM stdin reads its data from the lines that follow it, which only psql can send; write the rows as INSERT … VALUES, or run this migration with psql through tool: command',
    );
  });
});
