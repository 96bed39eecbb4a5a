/**
 * The migrations folder: `<version>_<name>.sql` files, applied in numeric order of version,
 * each with an optional `<version>_<name>.down.sql`. A `.sql` file that does not follow the
 * pattern is an error rather than silently skipped.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { mapLimit } from '../core/concurrency.js';
import { UserError } from '../core/errors.js';
import { splitSql, type SqlStatement } from './sql-split.js';

/** One migration on disk. */
export interface MigrationFile {
  version: bigint;
  /** The version as written in the file name (leading zeros kept). */
  versionText: string;
  name: string;
  /** Path relative to the repository, for messages and annotations. */
  file: string;
  /** sha256 of the file's bytes, hex. */
  checksum: string;
  sql: string;
  /** First line is `-- slipway:no-transaction`. */
  noTransaction: boolean;
  down?: { file: string; sql: string; noTransaction: boolean };
}

const UP = /^(\d+)_([A-Za-z0-9][A-Za-z0-9_.-]*?)(\.down)?\.sql$/;
const NO_TX = /^\s*--\s*slipway:no-transaction\s*$/i;

/** True when the first line marks the file to run outside a transaction. */
export function isNoTransaction(sql: string): boolean {
  return NO_TX.test(sql.replace(/^\uFEFF/, '').split('\n', 1)[0] ?? '');
}

/** Read and order the migrations of `dir` (absolute); `rel` maps an absolute path to the path shown. */
export async function readMigrations(dir: string, rel: (abs: string) => string): Promise<MigrationFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`input "dir": the migrations folder ${rel(dir)} does not exist`);
    if (code === 'ENOTDIR')
      throw new UserError(`input "dir": ${rel(dir)} is a file, expected a folder of .sql migrations`);
    throw new UserError(`input "dir": cannot read ${rel(dir)}: ${code ?? String(err)}`);
  }
  const ups = new Map<string, MigrationFile>();
  const downs = new Map<string, { file: string; sql: string; noTransaction: boolean; version: bigint }>();
  const byVersion = new Map<bigint, string>();
  const sqlNames = names.filter((n) => n.toLowerCase().endsWith('.sql')).sort();
  for (const name of sqlNames) {
    if (!UP.test(name)) {
      const file = rel(path.join(dir, name));
      throw new UserError(
        `${file}: a migration must be named <version>_<name>.sql (or .down.sql), with a numeric version such as 001 or 20250101120000`,
        { file },
      );
    }
  }
  const contents = await readAll(sqlNames.map((n) => path.join(dir, n)));
  for (const [index, name] of sqlNames.entries()) {
    const m = UP.exec(name)!;
    const file = rel(path.join(dir, name));
    const buf = contents[index];
    const sql = buf.toString('utf8');
    const version = BigInt(m[1]);
    if (version > 9_223_372_036_854_775_807n)
      throw new UserError(`${file}: version ${m[1]} is larger than a 64-bit number`, { file });
    if (m[3]) {
      downs.set(`${m[1]}_${m[2]}`, { file, sql, noTransaction: isNoTransaction(sql), version });
      continue;
    }
    const other = byVersion.get(version);
    if (other) throw new UserError(`${file}: version ${version} is also used by ${other}`, { file });
    byVersion.set(version, file);
    ups.set(`${m[1]}_${m[2]}`, {
      version,
      versionText: m[1],
      name: m[2],
      file,
      checksum: createHash('sha256').update(buf).digest('hex'),
      sql,
      noTransaction: isNoTransaction(sql),
    });
  }
  for (const [key, down] of downs) {
    const up = ups.get(key);
    if (!up)
      throw new UserError(`${down.file}: a down migration without its up migration ${key}.sql`, { file: down.file });
    up.down = { file: down.file, sql: down.sql, noTransaction: down.noTransaction };
  }
  return [...ups.values()].sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
}

/** Read files a few at a time: one by one is slow for a thousand migrations, all at once can run out of descriptors. */
function readAll(files: string[], concurrency = 32): Promise<Buffer[]> {
  return mapLimit(files, concurrency, (f) => readFile(f));
}

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
