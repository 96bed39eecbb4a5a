/**
 * Promoting a release branch: the product's candidate and each own-series component's newest
 * candidate on the branch become final releases at the promoted commit, through the release
 * workflow's version and tag steps (version-bump with promote, tag-release reserve, then
 * tag-release), against the OpenAPI-checked GitHub server and a real git repository.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { isUserError } from '../../src/core/errors.js';
import type { ActionDefinition, InputFields } from '../../src/core/inputs.js';
import { inputVariable, parseInputs } from '../../src/core/inputs.js';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { invokeAction } from '../../src/pipeline/invoke.js';
import { tagRelease } from '../../src/release/tag-release.js';
import { versionBump } from '../../src/versioning/version-bump.js';
import { createRepo, type TestRepo } from '../helpers/git-repo.js';
import { startGitHubServer, type GitHubServer } from '../helpers/github-server.js';

const TOKEN = 'ghs_promoteTestToken0123456789abcd';
const BRANCH = 'release/0.105';
const POLICY = [
  'versioning: { tag: "v{version}" }',
  'components:',
  '  api: { paths: [services/api/**], series: product }',
  '  py: { paths: [sdk/python/**], tag: "py/{version}" }',
  '  web: { paths: [web/**], tag: "@acme/web@{version}" }',
  '',
].join('\n');

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Released at v0.104.7, py/1.37.5 and @acme/web@2.3.0; release/0.105 cut with api and py fixes, web untouched. */
function releaseBranch(): TestRepo {
  const r = createRepo();
  cleanups.push(() => r.cleanup());
  r.commit('chore: scaffold', {
    '.github/slipway.yml': POLICY,
    'services/api/main.go': 'package main\n',
    'sdk/python/client.py': 'x = 1\n',
    'web/app.ts': 'app\n',
  });
  r.tag('v0.104.7');
  r.tag('py/1.37.5');
  r.tag('@acme/web@2.3.0');
  r.git('checkout', '-q', '-b', BRANCH);
  r.commit('fix(py): retries', { 'sdk/python/client.py': 'x = 2\n' });
  r.commit('fix(api): timeouts', { 'services/api/main.go': 'package main // 2\n' });
  return r;
}

/** The release workflow's version job and tag job, through the actions' own run functions. */
function pipeline(r: TestRepo, gh: GitHubServer) {
  const env = () => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_API_URL: gh.url,
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_SHA: r.head(),
    GITHUB_REF: `refs/heads/${BRANCH}`,
    SLIPWAY_RETRY_BASE_MS: '1',
  });
  const tag = (inputs: Record<string, string>) =>
    invokeAction(
      tagRelease as unknown as ActionDefinition<InputFields>,
      { token: TOKEN, ...inputs },
      createMemoryRuntime({ cwd: r.dir, env: env() }),
    );
  return async (promote: boolean) => {
    const vbEnv: NodeJS.ProcessEnv = { ...env() };
    for (const [k, v] of Object.entries({ branch: BRANCH, promote: String(promote) })) vbEnv[inputVariable(k)] = v;
    const rt = createMemoryRuntime({ env: vbEnv, cwd: r.dir });
    await versionBump.run(parseInputs(versionBump.inputs, vbEnv, rt), rt);
    const vb = rt.outputs;
    // The version job: reserve what moved; the tag job (after production): release it.
    const moved = vb.release === 'true' || vb.components.includes('"release":true');
    if (!moved) return { vb, released: null };
    const version = vb.release === 'true' ? vb.version : '';
    const reserved = await tag({ version, reserve: 'true', components: vb.components, versions: vb.versions });
    const released = await tag({ version, components: reserved.components || vb.components });
    return { vb, reserved, released };
  };
}

/** The tags the server has, fetched into the checkout (as the next run's fetch-depth: 0 checkout has them). */
function fetchTags(r: TestRepo, gh: GitHubServer, names: string[]) {
  for (const name of names) r.git('tag', '-f', name, gh.state.repo().tag(name)!.commit);
}

describe('promote on a release branch', () => {
  it('finalizes the product and each component with a candidate at the promoted commit; a second run creates nothing', async () => {
    const gh = await startGitHubServer({ token: TOKEN });
    cleanups.push(() => gh.stop());
    const r = releaseBranch();
    gh.state.repo().importGit(r.dir);
    const run = pipeline(r, gh);
    const state = gh.state.repo();

    // Two pushes, two candidates: v0.105.0-rc.1 / py/1.37.6-rc.1, then rc.2 of both.
    await run(false);
    fetchTags(r, gh, ['v0.105.0-rc.1', 'py/1.37.6-rc.1']);
    r.commit('fix(py): encoding', { 'sdk/python/client.py': 'x = 3\n' });
    gh.state.repo().importGit(r.dir);
    const rc2 = await run(false);
    expect(rc2.vb.version).toBe('0.105.0-rc.2');
    expect(JSON.parse(rc2.vb.components).py).toMatchObject({ version: '1.37.6-rc.2', release: true });
    fetchTags(r, gh, ['v0.105.0-rc.2', 'py/1.37.6-rc.2']);
    expect(state.tag('py/1.37.6-rc.2')?.commit).toBe(r.head());
    expect(Object.keys(JSON.parse(rc2.vb.components))).toContain('web');
    const candidates = state.releases.map((x) => x.tag_name).sort();
    expect(candidates).toEqual(['py/1.37.6-rc.1', 'py/1.37.6-rc.2', 'v0.105.0-rc.1', 'v0.105.0-rc.2']);

    // The promote run.
    const head = r.head();
    const promoted = await run(true);
    expect(promoted.vb).toMatchObject({ version: '0.105.0', release: 'true', prerelease: 'false', bump: 'minor' });
    expect(promoted.vb.notes).toMatch(
      /^Release 0\.105\.0, promoted from v0\.105\.0-rc\.2: the changes since v0\.104\.7\./,
    );
    const comps = JSON.parse(promoted.vb.components) as Record<string, Record<string, unknown>>;
    expect(comps.py).toMatchObject({
      version: '1.37.6',
      release: true,
      tag: 'py/1.37.6',
      bump: 'patch',
      'promoted-from': 'py/1.37.6-rc.2',
    });
    // web has no candidate on the branch: it stays at its release, and gets no tag.
    expect(comps.web).toMatchObject({ version: '2.3.0', release: false });
    expect(JSON.parse(promoted.vb.versions)).toEqual({ api: '0.105.0', py: '1.37.6', web: '2.3.0' });

    for (const name of ['v0.105.0', 'py/1.37.6'])
      expect(state.tag(name)).toMatchObject({ commit: head, annotated: true });
    expect([...state.releases.map((x) => x.tag_name)].filter((t) => !candidates.includes(t)).sort()).toEqual([
      'py/1.37.6',
      'v0.105.0',
    ]);
    expect(gh.requests.some((x) => x.method === 'POST' && /@acme\/web@/.test(JSON.stringify(x.body ?? '')))).toBe(
      false,
    );
    const py = state.releases.find((x) => x.tag_name === 'py/1.37.6')!;
    expect(py).toMatchObject({ name: 'py 1.37.6', prerelease: false, make_latest: 'false' });
    // Its notes: the commits under its paths since its last final tag, the candidates' included.
    expect(py.body).toContain('retries');
    expect(py.body).toContain('encoding');
    expect(py.body).not.toContain('timeouts');
    expect(py.body).toContain('(`py/1.37.5`)');
    const product = state.releases.find((x) => x.tag_name === 'v0.105.0')!;
    expect(product).toMatchObject({ prerelease: false });
    expect(product.body).toContain('timeouts');
    expect(JSON.parse(promoted.released!.components).py).toMatchObject({ tag: 'py/1.37.6', created: true });

    // The same promote run again, on the same checkout: nothing new is written.
    const writes = () => gh.requests.filter((x) => x.method !== 'GET').length;
    const before = writes();
    const again = await run(true);
    expect(again.released!.created).toBe('false');
    expect(JSON.parse(again.released!.components).py).toMatchObject({ created: false });
    expect(writes()).toBe(before);

    // A later promote run whose checkout has the final tags: nothing to release at all.
    fetchTags(r, gh, ['v0.105.0', 'py/1.37.6']);
    const later = await run(true);
    expect(later.released).toBeNull();
    expect(later.vb.release).toBe('false');
    expect(JSON.parse(later.vb.components).py).toMatchObject({ release: false });
    expect(writes()).toBe(before);

    // A promote run after the branch moved on (the next in the release workflow's queue): the
    // final versions are taken, by the commit promoted first; it releases nothing, moves nothing.
    r.commit('fix(py): late', { 'sdk/python/client.py': 'x = 4\n' });
    gh.state.repo().importGit(r.dir);
    const moved = await run(true);
    expect(moved.released).toBeNull();
    expect(moved.vb.release).toBe('false');
    expect(JSON.parse(moved.vb.components).py).toMatchObject({ release: false, version: '1.37.6' });
    expect(writes()).toBe(before);
    expect(state.tag('v0.105.0')?.commit).toBe(head);
    expect(gh.violations).toEqual([]);
  });

  it('refuses to promote a HEAD that has commits its newest candidate lacks, naming them and the way on', async () => {
    const gh = await startGitHubServer({ token: TOKEN });
    cleanups.push(() => gh.stop());
    const r = releaseBranch();
    gh.state.repo().importGit(r.dir);
    const run = pipeline(r, gh);
    const state = gh.state.repo();
    const rc1 = await run(false);
    fetchTags(r, gh, [rc1.vb.tag, JSON.parse(rc1.vb.components).py.tag]);
    const tested = r.head();
    // Pushed after the candidate, and never a candidate itself: not what staging tested.
    r.commit('fix(api): untested', { 'services/api/main.go': 'package main // 3\n' });
    r.commit('docs: untested too');
    gh.state.repo().importGit(r.dir);

    const err = await run(true).catch((e: unknown) => e);
    expect(isUserError(err)).toBe(true);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toContain(`HEAD ${r.head().slice(0, 7)} has 2 commits not in candidate ${rc1.vb.tag}`);
    expect(message).toContain(tested.slice(0, 7));
    expect(message).toMatch(/without promote/);
    // Nothing final was tagged or released, on HEAD or anywhere.
    const core = rc1.vb['candidate-of'];
    expect(state.tag(`v${core}`)).toBeUndefined();
    expect(state.releases.map((x) => x.tag_name)).not.toContain(`v${core}`);

    // The way on: a candidate of HEAD (the push run), then the promotion of that candidate.
    const rc2 = await run(false);
    expect(rc2.vb.release).toBe('true');
    fetchTags(r, gh, [rc2.vb.tag]);
    const promoted = await run(true);
    expect(promoted.vb).toMatchObject({ release: 'true', version: core });
    expect(JSON.parse(promoted.vb.components).py).toMatchObject({ release: true, 'promoted-from': 'py/1.37.6-rc.1' });
    expect(state.tag(`v${core}`)?.commit).toBe(r.head());
    expect(gh.violations).toEqual([]);
  });

  it("promotes only this branch's candidates, and refuses a branch that has none to promote", async () => {
    const r = releaseBranch();
    const bump = async (branch: string, promote = 'true') => {
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
      for (const [k, v] of Object.entries({ branch, promote })) env[inputVariable(k)] = v;
      const rt = createMemoryRuntime({ env, cwd: r.dir });
      await versionBump.run(parseInputs(versionBump.inputs, env, rt), rt);
      return rt.outputs;
    };
    r.tag('v0.105.0-rc.1');
    r.tag('py/1.37.6-rc.1');
    // A candidate of the next release branch, not in this one's history.
    r.git('checkout', '-q', '-b', 'release/0.106');
    r.commit('feat(py): streaming', { 'sdk/python/client.py': 'x = 9\n' });
    r.tag('py/1.38.0-rc.1');
    r.git('checkout', '-q', BRANCH);
    const out = await bump(BRANCH);
    expect(JSON.parse(out.components).py).toMatchObject({ version: '1.37.6', 'promoted-from': 'py/1.37.6-rc.1' });
    // With no candidate of its own on the branch, a component is not promoted.
    r.git('tag', '-d', 'py/1.37.6-rc.1');
    expect(JSON.parse((await bump(BRANCH)).components).py).toMatchObject({ version: '1.37.5', release: false });
    // promote is for a release branch.
    r.git('checkout', '-q', 'main');
    await expect(bump('main')).rejects.toThrow(/input "promote": branch main is on the stable channel/);
  });
});
