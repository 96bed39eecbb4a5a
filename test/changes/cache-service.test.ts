/**
 * The bundled build-selective with the real @actions/cache client against a local cache
 * service speaking cache service v2 (Twirp + blob storage), as on a runner.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startCacheServer, type CacheServer } from '../helpers/cache-server.js';
import { createRepo, type TestRepo } from '../helpers/git-repo.js';
import { errorLines, runBundledAction, type ActionRun } from '../helpers/run-action.js';

let cache: CacheServer;
let r: TestRepo;
beforeEach(async () => {
  cache = await startCacheServer();
  r = createRepo();
  r.commit('init', {
    '.github/slipway.yml': [
      'components:',
      '  lib:',
      '    paths: [lib/**]',
      '    build: { run: \'echo "built $SLIPWAY_COMPONENT" >> "$BUILD_LOG"; mkdir -p out && cp lib/src.txt out/lib.txt\', outputs: [out/lib.txt] }',
      '  web:',
      '    paths: [web/**]',
      '    build: { run: \'echo "built $SLIPWAY_COMPONENT" >> "$BUILD_LOG"\' }',
      '',
    ].join('\n'),
    '.gitignore': 'out/\n.slipway/\nbuild.log\n',
    'lib/src.txt': 'library v1\n',
    'web/index.html': '<p>1</p>\n',
  });
});
afterEach(async () => {
  await cache.stop();
  r.cleanup();
});

const buildLog = () => path.join(r.dir, 'build.log');
const built = () => (existsSync(buildLog()) ? readFileSync(buildLog(), 'utf8').trim().split('\n') : []);
const warnings = (run: ActionRun) => run.stdout.split('\n').filter((l) => l.startsWith('::warning'));

function run(env: Record<string, string> = {}): Promise<ActionRun> {
  return runBundledAction('build-selective', {
    cwd: r.dir,
    inputs: { all: 'true', run: 'true', cache: 'true', version: '1.0.0', parallel: '1' },
    eventName: 'workflow_dispatch',
    env: { ...cache.env, BUILD_LOG: buildLog(), ...env },
  });
}

describe('build cache on the GitHub cache service (v2)', () => {
  it('a miss builds and saves; the same inputs again hit, restore build.outputs and skip the build', async () => {
    const first = await run();
    expect(errorLines(first)).toEqual([]);
    expect(first.code).toBe(0);
    expect(built()).toEqual(['built lib', 'built web']);
    expect(JSON.parse(first.outputs.skipped)).toEqual({});
    const hashes = JSON.parse(first.outputs.hashes) as Record<string, string>;
    // Both saved through the service: reserved, uploaded to blob storage, finalized.
    expect(cache.calls.map((c) => `${c.method} ${c.status}`)).toEqual([
      'GetCacheEntryDownloadURL 200',
      'CreateCacheEntry 200',
      'FinalizeCacheEntryUpload 200',
      'GetCacheEntryDownloadURL 200',
      'CreateCacheEntry 200',
      'FinalizeCacheEntryUpload 200',
    ]);
    expect(cache.entries.map((e) => e.key)).toEqual([
      `slipway-build-lib-1.0.0-${hashes.lib}`,
      `slipway-build-web-1.0.0-${hashes.web}`,
    ]);
    expect(cache.entries.every((e) => e.archive && e.archive.length === e.sizeBytes)).toBe(true);

    // A fresh workspace state: the outputs are gone, as on a new runner.
    rmSync(path.join(r.dir, 'out'), { recursive: true });
    rmSync(path.join(r.dir, '.slipway'), { recursive: true });
    rmSync(buildLog());
    const second = await run();
    expect(errorLines(second)).toEqual([]);
    expect(second.code).toBe(0);
    expect(built()).toEqual([]);
    expect(JSON.parse(second.outputs.skipped)).toEqual({
      lib: { hash: hashes.lib, key: `slipway-build-lib-1.0.0-${hashes.lib}` },
      web: { hash: hashes.web, key: `slipway-build-web-1.0.0-${hashes.web}` },
    });
    expect(readFileSync(path.join(r.dir, 'out/lib.txt'), 'utf8')).toBe('library v1\n');
    expect(JSON.parse(readFileSync(path.join(r.dir, '.slipway/builds/lib.json'), 'utf8'))).toMatchObject({
      component: 'lib',
      hash: hashes.lib,
    });
    expect(second.summary).toContain('cached, skipped');
    expect(cache.blobRequests.filter((b) => b.startsWith('GET'))).toHaveLength(2);

    // A change to lib's inputs is a miss for lib only.
    r.commit('lib v2', { 'lib/src.txt': 'library v2\n' });
    const third = await run();
    expect(third.code).toBe(0);
    expect(built()).toEqual(['built lib']);
    expect(Object.keys(JSON.parse(third.outputs.skipped))).toEqual(['web']);
    expect(readFileSync(path.join(r.dir, 'out/lib.txt'), 'utf8')).toBe('library v2\n');
  });

  it('a cache that cannot be read is a warning, and the build runs', async () => {
    // The lookup refused (rate limited, which the client does not retry): lib is built, web is looked up as usual.
    cache.failNext('GetCacheEntryDownloadURL', 429);
    const first = await run();
    expect(errorLines(first)).toEqual([]);
    expect(first.code).toBe(0);
    expect(built()).toEqual(['built lib', 'built web']);
    expect(JSON.parse(first.outputs.skipped)).toEqual({});
    expect(warnings(first).join('\n')).toMatch(/Failed to restore: .*429/);
    expect(cache.entries).toHaveLength(2);

    // The entry is found but its archive cannot be downloaded (both of the client's attempts fail).
    rmSync(path.join(r.dir, 'out'), { recursive: true });
    rmSync(buildLog());
    cache.failNext('blob', 503, 2);
    const second = await run();
    expect(errorLines(second)).toEqual([]);
    expect(second.code).toBe(0);
    expect(built()).toEqual(['built lib']);
    expect(Object.keys(JSON.parse(second.outputs.skipped))).toEqual(['web']);
    expect(warnings(second).join('\n')).toMatch(/Failed to restore: .*503/);
    expect(readFileSync(path.join(r.dir, 'out/lib.txt'), 'utf8')).toBe('library v1\n');
  });

  it('without the cache service in the environment, it builds with a warning', async () => {
    const first = await run({ ACTIONS_RESULTS_URL: '' });
    expect(errorLines(first)).toEqual([]);
    expect(first.code).toBe(0);
    expect(built()).toEqual(['built lib', 'built web']);
    expect(warnings(first).join('\n')).toContain('cache service is not available');
    expect(cache.calls).toEqual([]);
  });
});
