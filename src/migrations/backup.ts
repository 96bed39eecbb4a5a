/**
 * The backup taken before migrating: where it goes, checked before the lock is taken; written
 * readable by its owner only; kept beyond the job when the runtime can keep files (on a runner,
 * as an artifact of the run, since RUNNER_TEMP is deleted with the job); and old local backups
 * pruned so they do not pile up.
 */
import { access, constants, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../core/errors.js';
import { duration } from '../core/markdown.js';
import type { Runtime } from '../core/runtime.js';
import type { Database } from './database.js';

/** Local backups kept in a folder; older ones are deleted after a new one is written. */
export const KEEP_BACKUPS = 5;

/** How long checking or creating the backup folder may take (a hung file system must not hold the lock). */
const DIR_CHECK_TIMEOUT_MS = 10_000;

/** Every backup's file name starts with this, and only these files are ever pruned. */
const PREFIX = 'slipway-backup-';

/** A backup taken: the file, and where it is kept beyond the job ('' when it is not). */
export interface Backup {
  file: string;
  kept: string;
}

/**
 * Off a runner, backups go to a folder of the repository's own: in the shared temporary
 * folder, pruning would delete other projects' backups, and a reboot every one.
 */
const LOCAL_BACKUP_DIR = '.slipway/backups';

/** The folder backups go to: the input, else $RUNNER_TEMP, else the repository's .slipway/backups. */
export function backupDirOf(backupDir: string | undefined, rt: Runtime): string {
  return path.resolve(rt.cwd, backupDir?.trim() || rt.env.RUNNER_TEMP || LOCAL_BACKUP_DIR);
}

/**
 * Make sure `dir` is a writable folder, creating what is missing one level at a time (a
 * recursive mkdir under /proc never returns in Node), bounded in time; a UserError names the
 * input and the folder. Runs before the migration lock is taken.
 */
export async function prepareBackupDir(dir: string, shown: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new UserError(
            `input "backup-dir": ${shown} could not be checked within ${duration(DIR_CHECK_TIMEOUT_MS)} (a stuck file system?)`,
          ),
        ),
      DIR_CHECK_TIMEOUT_MS,
    );
    timer.unref();
  });
  try {
    await Promise.race([ensureWritableDir(dir, shown), timeout]);
  } finally {
    clearTimeout(timer);
  }
  // A dump holds the data: the default folder, inside the repository, is never committed.
  if (path.basename(dir) === path.basename(LOCAL_BACKUP_DIR) && path.basename(path.dirname(dir)) === '.slipway')
    await writeFile(path.join(dir, '.gitignore'), '*\n', { flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw new UserError(`input "backup-dir": cannot write in ${shown}: ${err.code}`);
    });
}

async function ensureWritableDir(dir: string, shown: string): Promise<void> {
  const missing: string[] = [];
  let existing = dir;
  for (;;) {
    const info = await stat(existing).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null;
      throw new UserError(`input "backup-dir": cannot use ${shown}: ${err.code ?? err.message}`);
    });
    if (info) {
      if (!info.isDirectory())
        throw new UserError(`input "backup-dir": ${existing} is not a folder (expected a folder for the backup)`);
      break;
    }
    missing.unshift(existing);
    const parent = path.dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  for (const folder of missing)
    await mkdir(folder, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST')
        throw new UserError(`input "backup-dir": cannot create ${folder}: ${err.code ?? err.message}`);
    });
  await access(dir, constants.W_OK).catch((err: NodeJS.ErrnoException) => {
    throw new UserError(`input "backup-dir": ${shown} is not writable: ${err.code ?? err.message}`);
  });
}

/** The file name of a backup taken now, before `what` (e.g. `001_orders`). */
export function backupLabel(what: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return `${PREFIX}${stamp}-before-${what}`;
}

/**
 * Dump the database into `dir` under `label`, keep it beyond the job when the runtime can, and
 * prune the folder's older backups. A backup that cannot be kept stops the run: migrating
 * without the way back the user asked for would be worse than not migrating.
 */
export async function takeBackup(db: Database, dir: string, label: string, rt: Runtime): Promise<Backup> {
  const started = performance.now();
  const file = await rt.log.group(`Backup of ${db.where}`, () => db.backup(dir, label));
  rt.log.info(`Backup written to ${file} (${duration(performance.now() - started)}).`);
  let kept = '';
  if (rt.keep) {
    try {
      kept = await rt.keep(file);
    } catch (err) {
      throw new UserError(
        `backup: ${file} was written but could not be kept beyond this job (${err instanceof Error ? err.message : String(err)}); nothing was migrated`,
      );
    }
    if (kept) rt.log.info(`Backup kept as ${kept}.`);
  }
  const pruned = await pruneBackups(dir, KEEP_BACKUPS, file);
  if (pruned.length)
    rt.log.info(
      `Deleted ${pruned.length} older backup${pruned.length === 1 ? '' : 's'} from ${dir} (keeping ${KEEP_BACKUPS}).`,
    );
  return { file, kept };
}

/**
 * Delete the oldest `slipway-backup-*` files of `dir` beyond `keep` (their names start with the
 * time they were taken, so name order is age order); `current` is never deleted. Returns what went.
 */
async function pruneBackups(dir: string, keep: number, current: string): Promise<string[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith(PREFIX)).sort();
  const old = names.slice(0, Math.max(0, names.length - keep)).map((n) => path.join(dir, n));
  const gone: string[] = [];
  for (const file of old) {
    if (path.resolve(file) === path.resolve(current)) continue;
    await rm(file, { force: true });
    gone.push(file);
  }
  return gone;
}
