/**
 * Component versions are reserved like the product's: two quick pushes that both compute
 * py/1.37.6 reserve its tag before anything is built. When the older push tags first, the
 * newer takes py/1.37.7, builds, deploys and releases under it, and deploy refuses the older
 * one's version for its code; when the newer push tags first, the older run is superseded.
 * Against the OpenAPI-checked GitHub server and one real git repository.
 */
import { reserveHarness } from './reserve-harness.js';

const TOKEN = 'ghs_reserveComponentsToken0123456';
const h = reserveHarness(TOKEN, '78');
const { tag } = h;

/** deploy of one version per component, as commit `sha`'s job runs it. */
const deploy = (sha: string, versions: Record<string, string>) => h.deploy(sha, JSON.stringify(versions));

function setUp() {
  const p = h.product();
  const gh = h.github();
  h.apiAndPySdk();
  const a = p.repo.commit('fix(py): rounding', { 'sdk/python/client.py': 'x = 2\n' });
  const b = p.repo.commit('fix(py): totals', { 'sdk/python/client.py': 'x = 3\n' });
  gh.state.repo().importGit(p.dir);
  return { a, b };
}

test('two pushes that computed py/1.37.6: each commit gets its own component version, and deploy holds to it', async () => {
  const gh = h.github();
  const { a, b } = setUp();
  // Both pushes computed 0.1.1 and py 1.37.6 from v0.1.0 and py/1.37.5; the older one's version job reserves first.
  const components = JSON.stringify({
    py: { version: '1.37.6', release: true, bump: 'patch', 'previous-version': '1.37.5', tag: 'py/1.37.6' },
  });
  const versions = JSON.stringify({ api: '0.1.1', py: '1.37.6' });
  const inputs = { version: '0.1.1', reserve: true, components, versions };
  const ra = await tag(a, inputs);
  const rb = await tag(b, inputs);

  const state = gh.state.repo();
  const runs = new Map([
    [a, ra],
    [b, rb],
  ]);
  expect([ra, rb].map((r) => JSON.parse(r.components).py.version)).toEqual(['1.37.6', '1.37.7']);
  expect([ra.version, rb.version]).toEqual(['0.1.1', '0.1.2']);
  for (const [commit, r] of runs) {
    const own = JSON.parse(r.components).py;
    // The tag holds the component version for this commit; the outputs carry it on to build, deploy, release.
    expect(own).toMatchObject({ tag: `py/${own.version}`, release: true, created: true });
    expect(state.tag(`py/${own.version}`)).toMatchObject({ commit, annotated: true });
    expect(state.tag(`v${r.version}`)?.commit).toBe(commit);
    expect(JSON.parse(r.versions)).toEqual({ api: r.version, py: own.version });
  }
  expect(state.releases).toEqual([]);

  // A re-run of a reservation creates nothing; the release job releases each commit's own tags.
  const writes = () => gh.requests.filter((x) => x.method !== 'GET').length;
  const before = writes();
  const again = await tag(a, { version: ra.version, reserve: true, components: ra.components, versions });
  expect(again).toMatchObject({ version: ra.version, created: 'false' });
  expect(JSON.parse(again.components).py).toMatchObject({
    version: JSON.parse(ra.components).py.version,
    created: false,
  });
  expect(writes()).toBe(before);
  for (const [commit, r] of runs) {
    const released = await tag(commit, { version: r.version, components: r.components });
    expect(JSON.parse(released.components).py).toMatchObject({ created: true });
  }
  expect(state.releases.map((x) => x.tag_name).sort()).toEqual(['py/1.37.6', 'py/1.37.7', 'v0.1.1', 'v0.1.2']);
  for (const [commit, r] of runs) {
    const own = JSON.parse(r.components).py.version as string;
    expect(state.releases.find((x) => x.tag_name === `py/${own}`)?.name).toBe(`py ${own}`);
    expect(state.tag(`py/${own}`)?.commit).toBe(commit);
  }

  // Each commit deploys py under its own version; B's code under A's py version is refused in one line.
  const versionsOf = (r: typeof ra) => JSON.parse(r.versions) as Record<string, string>;
  const [first, second] = [a, b];
  expect(await deploy(first, versionsOf(runs.get(first)!))).toBeNull();
  const wrong = await deploy(second, { ...versionsOf(runs.get(second)!), py: versionsOf(runs.get(first)!).py });
  expect(wrong?.message).toMatch(
    new RegExp(`py ${versionsOf(runs.get(first)!).py.replace(/\./g, '\\.')}.*${first.slice(0, 7)}`),
  );
  expect(await deploy(second, versionsOf(runs.get(second)!))).toBeNull();
});

test('a component candidate is reserved too, alone when the product has nothing to release', async () => {
  const gh = h.github();
  const { a, b } = setUp();
  const components = JSON.stringify({
    py: { version: '1.37.6-rc.1', release: true, tag: 'py/1.37.6-rc.1', 'candidate-of': '1.37.6' },
  });
  const versions = JSON.stringify({ api: '0.1.0', py: '1.37.6-rc.1' });
  const ra = await tag(a, { reserve: true, components, versions });
  const rb = await tag(b, { reserve: true, components, versions });
  const got = [ra, rb].map((r) => JSON.parse(r.components).py.version);
  expect(got).toEqual(['1.37.6-rc.1', '1.37.6-rc.2']);
  for (const [commit, r] of [
    [a, ra],
    [b, rb],
  ] as const) {
    const own = JSON.parse(r.components).py.version as string;
    expect(gh.state.repo().tag(`py/${own}`)?.commit).toBe(commit);
    // No product version to reserve: api stays where version-bump put it.
    expect(r.version).toBe('');
    expect(JSON.parse(r.versions)).toEqual({ api: '0.1.0', py: own });
  }
  expect(gh.state.repo().tag('v0.1.1')).toBeUndefined();
});

test('the newer push holds py/1.37.6 first: the older run is superseded and reserves nothing', async () => {
  const gh = h.github();
  const { a, b } = setUp();
  const components = JSON.stringify({ py: { version: '1.37.6', release: true, tag: 'py/1.37.6' } });
  const versions = JSON.stringify({ api: '0.1.0', py: '1.37.6' });
  expect(JSON.parse((await tag(b, { reserve: true, components, versions })).components).py.version).toBe('1.37.6');
  // The older run computed the product's 0.1.1 too, which no one holds yet: it still takes nothing.
  const ra = await tag(a, { version: '0.1.1', reserve: true, components, versions });
  expect(ra).toMatchObject({ superseded: b, version: '', versions: '', components: '' });
  expect(gh.state.repo().tag('v0.1.1')).toBeUndefined();
  expect(gh.state.repo().tag('py/1.37.7')).toBeUndefined();
});
