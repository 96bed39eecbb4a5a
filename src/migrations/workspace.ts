/**
 * Migrations are files of the repository: a folder or file that resolves outside the
 * workspace (`dir: ../x`, an absolute path, a committed symlink to /tmp/…) is refused,
 * naming it, before any of its content is read.
 */
import path from 'node:path';
import { UserError } from '../core/errors.js';
import { resolveInside } from '../core/workspace-path.js';

export { workspaceRoot } from '../core/workspace-path.js';

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
  const { real, inside } = await resolveInside(root, abs);
  if (!inside)
    throw new UserError(
      `${what} ${shown}${real !== path.resolve(abs) ? ` resolves to ${real}, which is` : ' is'} outside the workspace ${root}; migrations must be files of the repository`,
      annotate ? { file: shown } : {},
    );
  return real;
}
