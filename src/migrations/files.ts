/**
 * The migrations folder: which format it is in (detected, or `migrate.format`), its
 * migrations in version order, each with the checksum of its file. Parsing each format is
 * in `formats/`; this module lists the folder (refusing what resolves outside the
 * workspace), reads the files, and checks what every format shares: one migration per
 * version, versions that fit the history table.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { mapLimit } from '../core/concurrency.js';
import { UserError } from '../core/errors.js';
import { ignorable } from './formats/common.js';
import { dbmateFormat } from './formats/dbmate.js';
import { flywayFormat } from './formats/flyway.js';
import { golangMigrateFormat } from './formats/golang-migrate.js';
import { gooseFormat } from './formats/goose.js';
import { prismaFormat } from './formats/prisma.js';
import { slipwayFormat } from './formats/slipway.js';
import type { FolderEntry, FormatName, MigrationFormat, ReadFile } from './formats/types.js';
import type { SqlStatement } from './sql-split.js';
import { realInside } from './workspace.js';

export { statementsOf } from './statements.js';
export { isNoTransaction } from './formats/slipway.js';
export { FORMAT_NAMES } from './formats/types.js';

/** One migration on disk. */
export interface MigrationFile {
  /** The version as the history table keys it (a Flyway version: its ordered 63-bit key). */
  version: bigint;
  /** The version as written in the file name (leading zeros kept). */
  versionText: string;
  name: string;
  /** Path relative to the repository, for messages and annotations. */
  file: string;
  /** sha256 of the file with line endings made \n, hex. */
  checksum: string;
  /** Checksums recorded before line endings were normalised that still mean this file (raw bytes, CRLF). */
  acceptedChecksums: string[];
  /** The SQL that runs forward (for a file with sections: its up section, other lines blanked). */
  sql: string;
  /** Runs outside a transaction (`-- slipway:no-transaction`, `-- +goose NO TRANSACTION`, …). */
  noTransaction: boolean;
  /** Statement boundaries the file states itself (goose StatementBegin/End). */
  statements?: SqlStatement[];
  down?: { file: string; sql: string; noTransaction: boolean; statements?: SqlStatement[] };
}

/** `migrate.format`: a format, or detection from the folder. */
export type FormatChoice = FormatName | 'auto';

const FORMATS: Record<FormatName, MigrationFormat> = {
  slipway: slipwayFormat,
  'golang-migrate': golangMigrateFormat,
  goose: gooseFormat,
  dbmate: dbmateFormat,
  flyway: flywayFormat,
  prisma: prismaFormat,
};

/** How to read a folder. */
export interface LoadOptions {
  /** The workspace's real path: a folder or file resolving outside it is refused before it is read. */
  root?: string;
  format?: FormatChoice;
  /** Where the folder's name came from, as errors name it (default: input "dir"). */
  dirFrom?: string;
}

/** The folder's format and its migrations in version order. */
export async function loadMigrations(
  dir: string,
  rel: (abs: string) => string,
  options: LoadOptions = {},
): Promise<{ format: MigrationFormat; files: MigrationFile[] }> {
  const { root } = options;
  const from = options.dirFrom ?? 'input "dir"';
  const inside = (abs: string, shown: string, what: string, annotate = true) =>
    root ? realInside(root, abs, shown, what, annotate) : Promise.resolve(abs);
  // The input names the folder; an annotation could only point outside the repository.
  await inside(dir, rel(dir), `${from}: the migrations folder`, false);
  const list = async (folder: string, shown: string): Promise<FolderEntry[]> => {
    let dirents;
    try {
      dirents = await readdir(folder, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new UserError(`${from}: the migrations folder ${shown} does not exist`);
      if (code === 'ENOTDIR') throw new UserError(`${from}: ${shown} is a file, expected a folder of .sql migrations`);
      throw new UserError(`${from}: cannot read ${shown}: ${code ?? String(err)}`);
    }
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return mapLimit(dirents, 32, async (d) => {
      const abs = path.join(folder, d.name);
      const entry = { name: d.name, abs, file: rel(abs), isDir: d.isDirectory() };
      // Before anything follows a link: one out of the workspace is refused, not read.
      if (!ignorable(d.name) && d.isSymbolicLink()) {
        const real = await inside(abs, entry.file, 'migration file');
        entry.isDir = (await stat(real).catch(() => null))?.isDirectory() ?? false;
      }
      return entry;
    });
  };
  const entries = await list(dir, rel(dir));
  /** Sub-folders replaced by the files in them, at any depth (Flyway scans its locations so). */
  const flatten = async (from: FolderEntry[], depth = 0): Promise<FolderEntry[]> => {
    const out: FolderEntry[] = [];
    for (const e of from) {
      if (!e.isDir || ignorable(e.name)) out.push(e);
      else if (depth < 16) out.push(...(await flatten(await list(e.abs, e.file), depth + 1)));
      else
        throw new UserError(`${e.file}/: more than 16 levels of sub-folders; move its migrations up`, { file: e.file });
    }
    return out;
  };

  // Read what any format could ask for at once, a few at a time; a thousand one by one is slow.
  const cache = new Map<string, Promise<ReadFile>>();
  const load = (abs: string, file: string, child = false): Promise<ReadFile> => {
    let p = cache.get(abs);
    if (!p) {
      p = (async () => {
        // A listed entry was checked when listed; a file inside a listed folder is checked here.
        if (child) await inside(abs, file, 'migration file');
        const buf = await readFile(abs).catch((err: NodeJS.ErrnoException) => {
          // A missing child (a Prisma folder without migration.sql) is the format's to report.
          if (err.code === 'ENOENT' && child) throw err;
          throw new UserError(
            `${file}: cannot read it (${err.code ?? String(err)}${err.code === 'ENOENT' ? ': a link to nothing?' : ''})`,
            { file },
          );
        });
        return { file, buf, text: buf.toString('utf8') };
      })();
      cache.set(abs, p);
    }
    return p;
  };
  const read = (e: FolderEntry, child?: string) =>
    child ? load(path.join(e.abs, child), `${e.file}/${child}`, true) : load(e.abs, e.file);
  const wanted = entries.filter((e) => !ignorable(e.name));
  await mapLimit(wanted, 32, async (e) => {
    if (!e.isDir && !/\.(sql|conf)$/i.test(e.name)) return;
    await read(e, e.isDir ? 'migration.sql' : undefined).catch(() => undefined);
  });

  const format =
    options.format && options.format !== 'auto'
      ? FORMATS[options.format]
      : await detectFormat(wanted, read, () => flatten(wanted));
  const parsed = await format.parse(format === flywayFormat ? await flatten(entries) : entries, read);

  const byVersion = new Map<bigint, string>();
  const files: MigrationFile[] = [];
  for (const p of parsed) {
    const file = p.up.file;
    if (p.version > 9_223_372_036_854_775_807n)
      throw new UserError(`${file}: version ${p.versionText} is larger than a 64-bit number`, { file });
    const other = byVersion.get(p.version);
    if (other) throw new UserError(`${file}: version ${p.versionText} is also used by ${other}`, { file });
    byVersion.set(p.version, file);
    const sums = checksumsOf(p.source.buf);
    files.push({
      version: p.version,
      versionText: p.versionText,
      name: p.name,
      file,
      checksum: sums.checksum,
      acceptedChecksums: sums.accepted,
      sql: p.up.sql,
      noTransaction: p.up.noTransaction,
      statements: p.up.statements,
      down: p.down,
    });
  }
  files.sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  return { format, files };
}

const FLYWAY_NAME = /^(V\d[\d._]*|R)__.+\.sql$/;

/** The format a folder is written in, from its names and, for goose and dbmate, their annotations. */
async function detectFormat(
  entries: FolderEntry[],
  read: (e: FolderEntry, child?: string) => Promise<ReadFile>,
  nested: () => Promise<FolderEntry[]>,
): Promise<MigrationFormat> {
  const has = (re: RegExp, dir = false) => entries.some((e) => e.isDir === dir && re.test(e.name));
  if (has(/^migration_lock\.toml$/)) return prismaFormat;
  for (const e of entries.filter((x) => x.isDir && /^\d+_/.test(x.name))) {
    const found = await read(e, 'migration.sql').then(
      () => true,
      () => false,
    );
    if (found) return prismaFormat;
  }
  if (has(FLYWAY_NAME)) return flywayFormat;
  if (has(/^\d+_.+\.up\.sql$/)) return golangMigrateFormat;
  if (has(/^\d+_.+\.go$/)) return gooseFormat;
  for (const e of entries.filter((x) => !x.isDir && /\.sql$/i.test(x.name))) {
    const { text } = await read(e);
    // Any annotation decides: a file with only a Down section read as plain SQL would run its Down.
    if (/^\s*--\s*\+goose\s/im.test(text)) return gooseFormat;
    if (/^\s*--\s*migrate:(up|down)\b/im.test(text)) return dbmateFormat;
  }
  // Flyway reads sub-folders too: a folder whose versions are all in them is still Flyway's.
  if (entries.some((e) => e.isDir) && (await nested()).some((e) => FLYWAY_NAME.test(e.name))) return flywayFormat;
  return slipwayFormat;
}

/**
 * The checksum of a file: sha256 of its text with \r\n and \r made \n (as Flyway does), so a
 * checkout with other line endings is not drift. Histories written before recorded the raw
 * bytes; those, and the same text with \r\n, are accepted as the same file.
 */
function checksumsOf(buf: Buffer): { checksum: string; accepted: string[] } {
  const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
  const normal = buf.toString('utf8').replace(/\r\n?/g, '\n');
  const checksum = sha(normal);
  const accepted = [...new Set([sha(buf), sha(normal.replace(/\n/g, '\r\n'))])].filter((c) => c !== checksum);
  return { checksum, accepted };
}
