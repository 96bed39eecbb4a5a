/**
 * Files a step reads from the repository stay in the repository: a configured path that
 * resolves outside the workspace (`../x`, an absolute path, a committed symlink to /tmp/…)
 * is found here, before any of its content is read; each caller words the refusal.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';

/** The workspace's real path: the folder a run may read configured files from. */
export async function workspaceRoot(cwd: string): Promise<string> {
  return realpath(cwd).catch(() => path.resolve(cwd));
}

/** True when `abs` is `root` or inside it. */
function isInside(root: string, abs: string): boolean {
  const r = path.relative(root, abs);
  return r === '' || (!r.startsWith('..') && !path.isAbsolute(r));
}

/** Where `abs` really is (as resolved when it does not exist), whether it exists, and whether that is inside `root`. */
export async function resolveInside(
  root: string,
  abs: string,
): Promise<{ real: string; exists: boolean; inside: boolean }> {
  let real: string;
  let exists = true;
  try {
    real = await realpath(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    real = path.resolve(abs);
    exists = false;
  }
  return { real, exists, inside: isInside(root, real) };
}
