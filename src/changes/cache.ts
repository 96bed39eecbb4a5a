/**
 * The build cache seen by the domain: restore or save paths under a key. On GitHub it is
 * @actions/cache (src/actions/adapters/build-cache.ts); in the CLI and the tests it is a
 * folder, so a hit and a miss can be shown without the cache service.
 */
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ensureIgnoredDir } from './ignored-dir.js';

/** Where built outputs are kept between runs. */
export interface BuildCache {
  /** Restore `paths` (relative to the workspace) saved under exactly `key`; true on a hit. */
  restore(key: string, paths: string[]): Promise<boolean>;
  /** Save `paths` under `key`. */
  save(key: string, paths: string[]): Promise<void>;
}

/** A BuildCache in a local folder (never committed: it gets a .gitignore): each key is a sub-folder holding copies of the paths. */
export function folderCache(root: string, workspace: string): BuildCache {
  const dirOf = (key: string) => path.join(root, key.replace(/[^A-Za-z0-9._-]/g, '_'));
  return {
    async restore(key, paths) {
      const dir = dirOf(key);
      if (!existsSync(dir)) return false;
      for (const p of paths) {
        const from = path.join(dir, 'files', p);
        if (existsSync(from)) cpSync(from, path.join(workspace, p), { recursive: true });
      }
      return true;
    },
    async save(key, paths) {
      const dir = dirOf(key);
      ensureIgnoredDir(root);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(path.join(dir, 'files'), { recursive: true });
      for (const p of paths) {
        const from = path.join(workspace, p);
        if (existsSync(from)) cpSync(from, path.join(dir, 'files', p), { recursive: true });
      }
    },
  };
}
