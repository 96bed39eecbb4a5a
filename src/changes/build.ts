/**
 * Running the selected components' build commands: a component starts as soon as the
 * selected components it depends on are done, up to `parallel` at once. With a cache, a
 * component whose content hash was built before is restored instead of built.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../core/errors.js';
import { runUserCommand } from '../core/exec.js';
import { duration } from '../core/markdown.js';
import type { Logger } from '../core/runtime.js';
import type { BuildCache } from './cache.js';
import { ensureIgnoredDir } from './ignored-dir.js';

/** One component to build. */
export interface BuildItem {
  name: string;
  /** '' when the component has no build command. */
  command: string;
  hash: string;
  /** Selected components it depends on. */
  dependsOn: string[];
  /** build.outputs: saved with the cache. */
  outputs: string[];
  /** Its own version (a component with its own series); else the options' version. */
  version?: string;
}

/** How to build. */
export interface BuildOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  parallel: number;
  version: string;
  sha: string;
  cache: BuildCache | null;
  log: Logger;
}

/** A component whose build was skipped because its hash was in the cache. */
interface Skipped {
  hash: string;
  key: string;
}

/** What happened. */
export interface BuildOutcome {
  built: string[];
  skipped: Record<string, Skipped>;
  /** Components without a build command. */
  nothingToRun: string[];
  /** Component → the one-line cause of its failed build; empty when every build passed. */
  failures: Record<string, string>;
}

/**
 * The cache key of a component's build: its inputs' hash and the version it is built at. A
 * build gets SLIPWAY_VERSION (an image tag it pushes, a version it stamps), so the same
 * inputs at a new version (a revert, a promoted candidate) are built again, not restored.
 */
function cacheKey(name: string, hash: string, version: string): string {
  const v = version.replace(/[^0-9A-Za-z.+_-]/g, '_');
  return `slipway-build-${name}-${v ? `${v}-` : ''}${hash}`;
}

/** The folder of the markers builds leave in the workspace. */
const MARKERS = '.slipway/builds';

/** The marker a build leaves in the workspace, cached with its outputs so a hit is never empty. */
function markerPath(name: string): string {
  return `${MARKERS}/${name}.json`;
}

/**
 * Build `items` (given in dependency order); the first failure stops new builds. Failures are
 * in the outcome, not thrown, so the caller sets its outputs (what was skipped) before failing.
 */
export async function buildAll(items: readonly BuildItem[], options: BuildOptions): Promise<BuildOutcome> {
  const outcome: BuildOutcome = { built: [], skipped: {}, nothingToRun: [], failures: {} };
  const done = new Set<string>();
  const pending = [...items];
  const running = new Map<string, Promise<void>>();
  const failed = () => Object.keys(outcome.failures).length > 0;
  const live = options.parallel <= 1 || items.filter((i) => i.command).length <= 1;

  const one = async (item: BuildItem): Promise<void> => {
    const key = cacheKey(item.name, item.hash, item.version ?? options.version);
    const paths = [markerPath(item.name), ...item.outputs];
    if (!item.command) {
      outcome.nothingToRun.push(item.name);
      return;
    }
    // Before a restore too: restoring a marker creates the folder.
    ensureIgnoredDir(path.join(options.cwd, MARKERS));
    if (options.cache && (await restored(options.cache, key, paths, item.name, options.log))) {
      options.log.info(`${item.name}: inputs unchanged since an earlier build (cache ${key}); skipped.`);
      outcome.skipped[item.name] = { hash: item.hash, key };
      return;
    }
    const result = await runBuild(item, options, live);
    if (result) {
      outcome.failures[item.name] = result;
      return;
    }
    outcome.built.push(item.name);
    const marker = path.join(options.cwd, markerPath(item.name));
    // The build may have removed the folder.
    ensureIgnoredDir(path.dirname(marker));
    writeFileSync(
      marker,
      `${JSON.stringify({ component: item.name, hash: item.hash, sha: options.sha, version: item.version ?? options.version })}\n`,
    );
    if (options.cache) {
      try {
        await options.cache.save(key, paths);
      } catch (err) {
        options.log.warning(`${item.name}: built, but saving the build cache failed: ${errorMessage(err)}`);
      }
    }
  };

  while (pending.length || running.size) {
    if (!failed()) {
      for (let i = 0; i < pending.length && running.size < Math.max(1, options.parallel);) {
        const item = pending[i];
        if (item.dependsOn.every((d) => done.has(d))) {
          pending.splice(i, 1);
          running.set(
            item.name,
            one(item).finally(() => {
              running.delete(item.name);
              if (!failed()) done.add(item.name);
            }),
          );
        } else i++;
      }
    }
    if (!running.size) break;
    await Promise.race(running.values());
  }
  return outcome;
}

/** Restore a build from the cache; a cache that cannot be read is a warning and a miss, so the build runs. */
async function restored(cache: BuildCache, key: string, paths: string[], name: string, log: Logger): Promise<boolean> {
  try {
    return await cache.restore(key, paths);
  } catch (err) {
    log.warning(`${name}: the build cache could not be read (${errorMessage(err)}); building.`);
    return false;
  }
}

/** Run one build command; returns a one-line failure, or null on success. */
async function runBuild(item: BuildItem, options: BuildOptions, live: boolean): Promise<string | null> {
  const lines: string[] = [];
  const run = () =>
    runUserCommand(item.command, {
      cwd: options.cwd,
      baseEnv: options.env,
      env: {
        SLIPWAY_COMPONENT: item.name,
        SLIPWAY_VERSION: item.version ?? options.version,
        SLIPWAY_SHA: options.sha,
        SLIPWAY_HASH: item.hash,
      },
      onLine: (line) => (live ? options.log.info(line) : lines.push(line)),
    });
  if (!live) options.log.info(`${item.name}: build started.`);
  const result = live
    ? await options.log.group(`Build ${item.name}`, run)
    : await run().then(async (r) => {
        // Groups cannot interleave in a runner's log, so a parallel build's log is shown whole when it ends.
        await options.log.group(`Build ${item.name} (${duration(r.durationMs)})`, async () => {
          for (const l of lines) options.log.info(l);
        });
        return r;
      });
  if (result.code === 0) {
    options.log.info(`${item.name}: built in ${duration(result.durationMs)}.`);
    return null;
  }
  const last = result.tail.filter((l) => l.trim()).slice(-1)[0] ?? '';
  return `build of ${item.name} failed (exit ${result.signal ?? result.code})${last ? `: ${last.trim()}` : ''}`;
}
