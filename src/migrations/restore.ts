/**
 * Restoring a backup the migrate step took (pg_dump's custom format) with pg_restore: the
 * objects it holds are dropped and recreated in one transaction, so a failed restore leaves the
 * database as it was.
 */
import { open, stat } from 'node:fs/promises';
import { errorMessage, UserError } from '../core/errors.js';
import { execFile } from '../core/exec.js';
import { describeUrl, libpqConnection, parseDatabaseUrl } from './pg-database.js';

/** A restore of a large database can take a while, but not forever. */
const RESTORE_TIMEOUT_MS = 60 * 60_000;

/** Options of a restore. */
export interface RestoreOptions {
  /** Where the URL came from, for messages (e.g. `the variable DATABASE_URL`). */
  from: string;
}

/** Restore `file` into the database at `url`; returns `host:port/database`. A UserError says why it could not. */
export async function restoreBackup(file: string, url: string, options: RestoreOptions): Promise<string> {
  const u = parseDatabaseUrl(url, options.from);
  await checkDumpFile(file);
  const where = describeUrl(u);
  const conn = await libpqConnection(u, 'restore');
  const password = conn.env.PGPASSWORD ?? '';
  const clean = (text: string) => (password ? text.split(password).join('***') : text);
  const args = [
    '--clean',
    '--if-exists',
    // Owners are not replayed (the restoring role owns what it recreates: only a superuser
    // could set another), but grants are: the owner may give them, and a restore that left
    // the application's reader roles without their SELECT would be an outage of its own.
    '--no-owner',
    '--single-transaction',
    '--exit-on-error',
    '--no-password',
    `--dbname=${conn.dbname}`,
    file,
  ];
  const result = await execFile('pg_restore', args, { env: conn.env, timeoutMs: RESTORE_TIMEOUT_MS })
    .catch((err: unknown) => {
      throw new UserError(
        `restore: pg_restore could not run (is the PostgreSQL client installed?): ${clean(errorMessage(err))}`,
      );
    })
    .finally(conn.done);
  if (result.code !== 0) {
    const tail = clean(result.stderr.trim().split('\n').slice(-2).join(' | '));
    throw new UserError(`restore: pg_restore into ${where} failed (exit ${result.code}), nothing was changed: ${tail}`);
  }
  return where;
}

/** The file must be a pg_dump custom-format archive ("PGDMP"); a PGlite backup or anything else is named as such. */
async function checkDumpFile(file: string): Promise<void> {
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) throw new UserError(`restore: ${file} does not exist (expected a slipway-backup-*.dump file)`);
  const handle = await open(file, 'r');
  const head = Buffer.alloc(5);
  try {
    await handle.read(head, 0, 5, 0);
  } finally {
    await handle.close();
  }
  if (head.toString('latin1') === 'PGDMP') return;
  if (head[0] === 0x1f && head[1] === 0x8b)
    throw new UserError(
      `restore: ${file} is a gzip archive, the backup of the embedded database : extract it over the embedded database's folder instead (tar -xzf)`,
    );
  throw new UserError(
    `restore: ${file} is not a pg_dump custom-format archive (expected a slipway-backup-*.dump file)`,
  );
}
