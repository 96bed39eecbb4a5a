/**
 * The embedded default: a PGlite database in a folder, so the CLI and the demo run the whole
 * flow without a server. Only the CLI's path imports this module (dynamically), which keeps
 * PGlite out of the action bundles.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { RESET_SESSION_SQL, type Database, type DbSession } from './database.js';

/** Open (creating when needed) the PGlite database stored in `folder`. */
export async function openPGliteFolder(folder: string): Promise<Database> {
  await mkdir(folder, { recursive: true });
  const db = await PGlite.create(folder);
  // One process, one session: every "connection" is the same one, and closing it is the database's job.
  const session: DbSession = {
    exec: async (sql) => {
      await db.exec(sql);
    },
    query: async <T>(sql: string, params?: unknown[]) => (await db.query<T>(sql, params)).rows,
    reset: async () => {
      await db.exec(RESET_SESSION_SQL);
    },
    close: async () => undefined,
  };
  return {
    where: folder,
    shared: false,
    connect: async () => session,
    async backup(dir, label) {
      const file = path.join(dir, `${label}.tar.gz`);
      const dump = await db.dumpDataDir('gzip');
      await writeFile(file, Buffer.from(await dump.arrayBuffer()), { mode: 0o600 });
      await chmod(file, 0o600);
      return file;
    },
    close: () => db.close(),
  };
}
