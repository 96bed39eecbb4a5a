/** The SQL splitter and the lint rules, on their own. */
import { describe, expect, it } from '@jest/globals';
import { lintMigrations, tableKey } from '../../src/migrations/lint.js';
import { isNoTransaction } from '../../src/migrations/files.js';
import { splitSql } from '../../src/migrations/sql-split.js';

const lint = (...files: string[]) =>
  lintMigrations(files.map((sql, i) => ({ file: `m/${i + 1}.sql`, statements: splitSql(sql).statements }))).map(
    (f) => `${f.file}:${f.line} ${f.rule}${f.destructive ? '!' : ''}`,
  );

describe('splitSql', () => {
  it('splits at top-level semicolons only, with the line of each statement', () => {
    const sql = [
      '-- a comment; with a semicolon',
      "INSERT INTO t VALUES ('a;b', E'it\\'s;', \"we;ird\");",
      '/* block; /* nested; */ still */ SELECT 1;',
      '',
      'CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;',
      'DO $$ BEGIN PERFORM 1; END $$;',
      'CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END;',
      'SELECT $1::int',
    ].join('\n');
    const { statements, unterminated } = splitSql(sql);
    expect(unterminated).toBeNull();
    expect(statements.map((s) => s.line)).toEqual([2, 3, 5, 6, 7, 8]);
    expect(statements[0].code).toBe(`INSERT INTO t VALUES ('', E'', "we;ird")`);
    expect(statements[2].text).toContain('$body$ SELECT 1; $body$');
    expect(statements[5].code).toBe('SELECT $1::int');
  });

  it('reports what is left open and where', () => {
    expect(splitSql("SELECT 1;\n\nSELECT 'x").unterminated).toEqual({ what: 'a quoted string', line: 3 });
    expect(splitSql('SELECT 1; /* open').unterminated).toEqual({ what: 'a /* comment', line: 1 });
    expect(splitSql('\nDO $x$ BEGIN').unterminated).toEqual({ what: 'a $x$-quoted body', line: 2 });
  });

  it('recognises the no-transaction marker only on the first line', () => {
    expect(isNoTransaction('-- slipway:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);')).toBe(true);
    expect(isNoTransaction('SELECT 1;\n-- slipway:no-transaction')).toBe(false);
  });
});

describe('lintMigrations', () => {
  it('flags each breaking statement with its rule and line; destructive ones marked', () => {
    expect(
      lint(
        [
          'DROP TABLE IF EXISTS old_orders CASCADE;',
          'ALTER TABLE users DROP COLUMN legacy, ADD COLUMN age int NOT NULL;',
          'ALTER TABLE users ALTER COLUMN id TYPE bigint;',
          'ALTER TABLE users RENAME TO people;',
          'ALTER TABLE people RENAME COLUMN a TO b;',
          'TRUNCATE TABLE sessions;',
          'CREATE UNIQUE INDEX people_email ON people (email);',
          'ALTER TABLE people ALTER COLUMN email SET NOT NULL;',
          'ALTER TABLE "Quoted" ALTER COLUMN x SET DATA TYPE text;',
        ].join('\n'),
      ),
    ).toEqual([
      'm/1.sql:1 drop-table!',
      'm/1.sql:2 drop-column!',
      'm/1.sql:2 add-not-null-column',
      'm/1.sql:3 alter-column-type!',
      'm/1.sql:4 rename',
      'm/1.sql:5 rename',
      'm/1.sql:6 truncate!',
      'm/1.sql:7 index-without-concurrently',
      'm/1.sql:8 set-not-null',
      'm/1.sql:9 alter-column-type!',
    ]);
  });

  it('flags DROP SCHEMA, TYPE and SEQUENCE, and any DROP … CASCADE, as destructive; a plain DROP VIEW or FUNCTION is not', () => {
    const findings = lintMigrations([
      {
        file: 'm/1.sql',
        statements: splitSql(
          [
            'DROP SCHEMA app CASCADE;',
            'DROP TYPE public.mood;',
            'DROP SEQUENCE order_numbers;',
            'DROP VIEW report CASCADE;',
            'DROP VIEW other_report;',
            'DROP FUNCTION touch();',
          ].join('\n'),
        ).statements,
      },
    ]);
    expect(findings.map((f) => `${f.line} ${f.rule}${f.destructive ? '!' : ''}`)).toEqual([
      '1 drop-object!',
      '2 drop-object!',
      '3 drop-object!',
      '4 drop-object!',
    ]);
    expect(findings[0].message).toMatch(
      /^DROP SCHEMA app CASCADE: removes every object that depends on it, with their data/,
    );
    expect(findings[1].message).toMatch(/^DROP TYPE public\.mood: removes what it holds/);
  });

  it("flags a UNIQUE or PRIMARY KEY constraint that builds its index under the table's lock, not one USING INDEX", () => {
    const findings = lintMigrations([
      {
        file: 'm/1.sql',
        statements: splitSql(
          [
            "SET lock_timeout = '5s';",
            'ALTER TABLE users ADD CONSTRAINT users_mail UNIQUE (mail);',
            'ALTER TABLE orders ADD PRIMARY KEY (id);',
            'ALTER TABLE users ADD COLUMN code text UNIQUE;',
            'ALTER TABLE users ADD CONSTRAINT users_mail2 UNIQUE USING INDEX users_mail_idx;',
            'CREATE TABLE fresh (id int);',
            'ALTER TABLE fresh ADD CONSTRAINT fresh_id UNIQUE (id);',
          ].join('\n'),
        ).statements,
      },
    ]);
    expect(findings.map((f) => `${f.line} ${f.rule}${f.destructive ? '!' : ''}`)).toEqual([
      '2 unique-constraint',
      '3 unique-constraint',
      '4 unique-constraint',
    ]);
    expect(findings[0].message).toMatch(
      /^ADD CONSTRAINT users_mail UNIQUE on users builds its index while reads and writes of users wait .*CREATE UNIQUE INDEX CONCURRENTLY in a migration of its own, then ALTER TABLE users ADD CONSTRAINT users_mail UNIQUE USING INDEX/,
    );
    expect(findings[1].message).toMatch(/^ADD CONSTRAINT PRIMARY KEY on orders/);
  });

  it('leaves safe changes alone: new tables of the batch, defaults, CONCURRENTLY, constraints, under a lock_timeout', () => {
    expect(
      lint(
        'CREATE TABLE public.fresh (id int);',
        [
          "SET lock_timeout = '5s';",
          'ALTER TABLE fresh DROP COLUMN id;',
          'CREATE INDEX fresh_id ON fresh (id);',
          'ALTER TABLE users ADD COLUMN flag boolean NOT NULL DEFAULT false;',
          "ALTER TABLE users ALTER COLUMN status SET DEFAULT 'new', ALTER COLUMN status SET NOT NULL;",
          'ALTER TABLE users DROP CONSTRAINT users_check, ADD CONSTRAINT c CHECK (id > 0) NOT VALID;',
          'ALTER TABLE users RENAME CONSTRAINT a TO b;',
          'CREATE INDEX CONCURRENTLY users_flag ON users (flag);',
          "INSERT INTO notes VALUES ('DROP TABLE users');",
          '-- DROP TABLE users;',
        ].join('\n'),
      ),
    ).toEqual([]);
  });

  it('normalises table names', () => {
    expect(tableKey('Public.Users')).toBe('users');
    expect(tableKey('"Mixed"')).toBe('Mixed');
    expect(tableKey('app.orders')).toBe('app.orders');
  });
});
