/**
 * GitHub's "Re-run all jobs" keeps the run's id and runs version-bump again on a commit that
 * now carries the tag the first attempt reserved. Read as a release already made, that tag
 * made the re-run release nothing and ship nothing, green. The reservation names its run in
 * the tag's message, so the re-run computes as before it and ships the same version; any
 * other run still reads the tag as made. Against the OpenAPI-checked GitHub server: the tag
 * message the re-run reads is the one tag-release wrote there.
 */
import { execFileSync } from 'node:child_process';
import { stringify } from 'yaml';
import { inputVariable, parseInputs } from '../../src/core/inputs.js';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { versionBump } from '../../src/versioning/version-bump.js';
import { logged } from '../deploy/fixture.js';
import { reserveHarness } from './reserve-harness.js';

const TOKEN = 'ghs_rerunTestToken0123456789ab';
const RUN = '79';
const h = reserveHarness(TOKEN, RUN);

/** version-bump as a job of run `runId` (none: locally) runs it on the product's checkout. */
async function bump(inputs: Record<string, string>, runId?: string): Promise<Record<string, string>> {
  const env: NodeJS.ProcessEnv = { ...(runId ? { GITHUB_RUN_ID: runId, GITHUB_RUN_ATTEMPT: '2' } : {}) };
  for (const [k, v] of Object.entries(inputs)) env[inputVariable(k)] = v;
  const rt = createMemoryRuntime({ env, cwd: h.product().dir });
  await versionBump.run(parseInputs(versionBump.inputs, env, rt), rt);
  return { ...rt.outputs, log: rt.text() };
}

/** Fetch the tag the fake GitHub holds into the checkout, message and all, as a re-run's checkout does. */
function fetchTag(name: string) {
  const state = h.github().state.repo();
  const ref = state.tag(name)!;
  const object = state.tagObjects.get(ref.sha)!;
  execFileSync('git', ['tag', '-a', name, '-m', object.message, ref.commit], { cwd: h.product().dir });
}

test('a re-run finds the tag its first attempt reserved on the commit and ships that version again', async () => {
  const p = h.product();
  h.apiAndPySdk();
  const a = p.repo.commit('fix(py): rounding', { 'sdk/python/client.py': 'x = 2\n' });
  h.github().state.repo().importGit(p.dir);

  const first = await bump({ branch: 'main' }, RUN);
  expect([first.release, first.version]).toEqual(['true', '0.1.1']);
  expect(JSON.parse(first.components).py).toMatchObject({ release: true, version: '1.37.6' });
  const reserved = await h.tag(a, {
    version: first.version,
    reserve: true,
    components: first.components,
    versions: first.versions,
  });
  expect([reserved.version, reserved.created]).toEqual(['0.1.1', 'true']);
  fetchTag('v0.1.1');
  fetchTag('py/1.37.6');

  // The re-run: the same version, counted from the same release, with the same notes.
  const again = await bump({ branch: 'main' }, RUN);
  expect(again).toMatchObject({ release: 'true', version: '0.1.1', tag: 'v0.1.1', 'previous-tag': 'v0.1.0' });
  expect(again.notes).toBe(first.notes);
  expect(JSON.parse(again.components)).toEqual(JSON.parse(first.components));
  expect(again.versions).toBe(first.versions);
  expect(again.log).toContain(
    'py/1.37.6, v0.1.1 on HEAD were reserved by this workflow run (run 79, an earlier attempt)',
  );
  // Its reservation finds the tag on the commit; the deploy and the release go on under it.
  expect(await h.tag(a, { version: again.version, reserve: true })).toMatchObject({
    version: '0.1.1',
    created: 'false',
  });
  expect(await h.deploy(a, again.version)).toBeNull();

  // Any other run, and a local run, read the tag as a release made: nothing new.
  for (const other of [await bump({ branch: 'main' }, '80'), await bump({ branch: 'main' })]) {
    expect([other.release, other.version]).toEqual(['false', '0.1.1']);
    expect(JSON.parse(other.components).py).toMatchObject({ release: false, version: '1.37.6' });
  }
});

test('a re-run on a release branch ships the candidate it reserved, not the next one and not nothing', async () => {
  const p = h.product();
  p.writeConfig(
    stringify({ components: { api: { deploy: { run: logged() } } }, environments: { staging: { url: p.url } } }),
  );
  p.repo.commit('chore: init');
  p.repo.tag('v0.1.0');
  execFileSync('git', ['switch', '-q', '-c', 'release/0.2'], { cwd: p.dir });
  const a = p.repo.commit('feat: search');
  h.github().state.repo().importGit(p.dir);

  const first = await bump({ branch: 'release/0.2' }, RUN);
  expect([first.release, first.version]).toEqual(['true', '0.2.0-rc.1']);
  await h.tag(a, { version: first.version, reserve: true });
  fetchTag('v0.2.0-rc.1');

  const again = await bump({ branch: 'release/0.2' }, RUN);
  expect([again.release, again.version, again.tag]).toEqual(['true', '0.2.0-rc.1', 'v0.2.0-rc.1']);
  const other = await bump({ branch: 'release/0.2' }, '80');
  expect([other.release, other.version]).toEqual(['false', '0.2.0-rc.1']);
});
