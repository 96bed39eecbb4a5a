/**
 * Globs and folders of the repository as users write them. Git reports paths without a
 * leading `./`, so `./web/**` would match nothing while picomatch's own matcher (and
 * paths-filter) accept it: the same folder written two ways must select the same files.
 */

/** The glob without a leading `./` (after a `!`, too): `./web/**` → `web/**`, `!./a` → `!a`. */
export function repoGlob(glob: string): string {
  const neg = glob.startsWith('!') ? '!' : '';
  let rest = neg ? glob.slice(1) : glob;
  while (rest.startsWith('./')) rest = rest.slice(2).replace(/^\/+/, '');
  return `${neg}${rest}`;
}
