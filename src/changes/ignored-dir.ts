/**
 * Folders Slipway writes inside the user's repository (.slipway/builds, .slipway/cache) hold
 * build output: each gets a `.gitignore` of `*`, as .slipway/backups does, so a later
 * `git add -A` never commits them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../core/errors.js';

/** Create `dir` (and its parents) if missing, with a `.gitignore` that ignores everything in it. */
export function ensureIgnoredDir(dir: string): void {
  const fail = (err: unknown) =>
    new UserError(`cannot create ${dir} with its .gitignore: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw fail(err);
  }
  try {
    // wx: a .gitignore already there (the user's own) is left as it is.
    writeFileSync(path.join(dir, '.gitignore'), '*\n', { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fail(err);
  }
}
