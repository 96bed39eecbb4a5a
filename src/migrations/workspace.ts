/**
 * Migrations are files of the repository: a folder or file that resolves outside the
 * workspace (`dir: ../x`, an absolute path, a committed symlink to /tmp/…) is refused,
 * naming it, before any of its content is read.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../core/errors.js';

/** The workspace's real path; the folder a run may read migrations from. */
export async function workspaceRoot(cwd: string): Promise<string> {
  return realpath(cwd).catch(() => path.resolve(cwd));
}

/** True when `abs` is `root` or inside it. */
function isInside(root: string, abs: string): boolean {
  const r = path.relative(root, abs);
  return r === '' || (!r.startsWith('..') && !path.isAbsolute(r));
}

/**
 * The real path of `abs`, refused when it is outside `root`; `shown` is how messages name it
 * (and, with `annotate`, the file the error annotates: a path in the repository). A path that
 * does not exist is returned as resolved (the caller reports it missing).
 */
export async function realInside(
  root: string,
  abs: string,
  shown: string,
  what: string,
  annotate = true,
): Promise<string> {
  let real: string;
  try {
    real = await realpath(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    real = path.resolve(abs);
  }
  if (!isInside(root, real))
    throw new UserError(
      `${what} ${shown}${real !== path.resolve(abs) ? ` resolves to ${real}, which is` : ' is'} outside the workspace ${root}; migrations must be files of the repository`,
      annotate ? { file: shown } : {},
    );
  return real;
}
