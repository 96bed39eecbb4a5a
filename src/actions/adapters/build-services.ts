/**
 * build-selective's services on a GitHub runner: the build cache is @actions/cache (which
 * only domain-free code may import), and the last deployment comes from the Deployments API.
 */
import { localServices, type BuildSelectiveServices } from '../../changes/build-selective.js';
import type { BuildCache } from '../../changes/cache.js';
import type { Runtime } from '../../core/runtime.js';

// Loaded on first use: the cache client (Azure storage SDK and all) is most of the bundle, and
// a run without `cache: true` should not pay for starting it.
const load = () => import('@actions/cache');

/** A BuildCache over @actions/cache; exact keys only, so a hit always means identical inputs. */
function actionsCache(rt: Runtime): BuildCache {
  return {
    async restore(key, paths) {
      const cache = await load();
      if (!cache.isFeatureAvailable()) {
        rt.log.warning('The GitHub cache service is not available to this run; building without the cache.');
        return false;
      }
      return (await cache.restoreCache(paths, key, [])) === key;
    },
    async save(key, paths) {
      const cache = await load();
      if (!cache.isFeatureAvailable()) return;
      await cache.saveCache(paths, key);
    },
  };
}

/** The services of the bundled action: @actions/cache, and deploy's record as the CLI reads it. */
export const githubBuildServices: BuildSelectiveServices = {
  cache: actionsCache,
  deployments: localServices.deployments,
};
