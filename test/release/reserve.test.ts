/**
 * Two quick pushes that both compute 0.1.1: the version is reserved by its tag before anything
 * is built, and versions follow history. When the older push tags first, the newer one takes
 * 0.1.2; when the newer one tags first, the older run is superseded (it ships nothing; the
 * newer run carries its changes), so a newer commit never holds the lower version and deploy
 * never refuses it as a downgrade. Against the OpenAPI-checked GitHub server and one real git
 * repository.
 */
import { stringify } from 'yaml';
import { nextFree } from '../../src/release/reserve.js';
import { logged } from '../deploy/fixture.js';
import { reserveHarness } from './reserve-harness.js';

const TOKEN = 'ghs_reserveTestToken0123456789';
const h = reserveHarness(TOKEN, '77');
const { tag, deploy } = h;

/** Two fixes pushed one after the other on v0.1.0: a, then b on top of it. */
function setUp() {
  const p = h.product();
  p.writeConfig(
    stringify({ components: { api: { deploy: { run: logged() } } }, environments: { staging: { url: p.url } } }),
  );
  p.repo.commit('chore: init');
  p.repo.tag('v0.1.0');
  const a = p.repo.commit('fix: rounding');
  const b = p.repo.commit('fix: totals');
  h.github().state.repo().importGit(p.dir);
  return { a, b };
}

// Both pushes computed 0.1.1 from v0.1.0.
const inputs = { version: '0.1.1', reserve: true, versions: JSON.stringify({ api: '0.1.1', sdk: '2.0.0' }) };

test('the next free version keeps the kind of the one taken', () => {
  expect(nextFree('0.1.1')).toBe('0.1.2');
  expect(nextFree('0.2.0')).toBe('0.3.0');
  expect(nextFree('2.0.0')).toBe('3.0.0');
  expect(nextFree('1.4.0-rc.1')).toBe('1.4.0-rc.2');
});

test('the older push tags first: the newer takes the next free version, and each deploys under its own', async () => {
  const { a, b } = setUp();
  const state = h.github().state.repo();
  const ra = await tag(a, inputs);
  const rb = await tag(b, inputs);
  expect([ra.version, ra.superseded, rb.version, rb.superseded]).toEqual(['0.1.1', '', '0.1.2', '']);
  // The versions to build and deploy at follow the product's reservation; an own series keeps its own.
  expect(JSON.parse(rb.versions)).toEqual({ api: '0.1.2', sdk: '2.0.0' });
  expect(state.tag('v0.1.1')?.commit).toBe(a);
  expect(state.tag('v0.1.2')?.commit).toBe(b);
  expect(state.releases).toEqual([]);

  // A re-run of a reservation changes nothing; the release job later adds the release to the tag.
  expect(await tag(a, inputs)).toMatchObject({ version: '0.1.1', created: 'false', superseded: '' });
  expect((await tag(a, { version: '0.1.1' })).created).toBe('true');
  expect(state.tag('v0.1.1')?.commit).toBe(a);

  // Each commit deploys under its own version; B's code under A's version is refused in one line.
  expect(await deploy(a, '0.1.1')).toBeNull();
  expect((await deploy(b, '0.1.1'))?.message).toMatch(new RegExp(`0\\.1\\.1.*${a.slice(0, 7)}`));
  expect(await deploy(b, '0.1.2')).toBeNull();
});

test('the newer push tags first: the older run is superseded, tags nothing, and the newer one deploys', async () => {
  const { a, b } = setUp();
  const gh = h.github();
  const rb = await tag(b, inputs);
  const writes = gh.requests.filter((x) => x.method !== 'GET').length;
  const ra = await tag(a, inputs);
  expect(rb).toMatchObject({ version: '0.1.1', superseded: '' });
  expect(ra).toMatchObject({ version: '', versions: '', superseded: b, created: 'false' });
  // Nothing written for the older commit: no tag of its own, no next version taken.
  expect(gh.requests.filter((x) => x.method !== 'GET').length).toBe(writes);
  expect(gh.state.repo().tag('v0.1.2')).toBeUndefined();
  expect(await deploy(b, '0.1.1')).toBeNull();
});

test('racing at the same moment: whichever lands first, a newer commit never holds the lower version', async () => {
  const { a, b } = setUp();
  const state = h.github().state.repo();
  const [ra, rb] = await Promise.all([tag(a, inputs), tag(b, inputs)]);
  if (ra.superseded) {
    expect(ra.superseded).toBe(b);
    expect(rb.version).toBe('0.1.1');
  } else {
    expect([ra.version, rb.version, rb.superseded]).toEqual(['0.1.1', '0.1.2', '']);
    expect(await deploy(a, ra.version)).toBeNull();
  }
  expect(state.tag(`v${rb.version}`)?.commit).toBe(b);
  expect(await deploy(b, rb.version)).toBeNull();
});

test('a commit the holder does not contain (another branch) takes the next free version', async () => {
  const { a } = setUp();
  const p = h.product();
  p.repo.git('checkout', '-q', '-b', 'hotfix/x', 'v0.1.0');
  const c = p.repo.commit('fix: on the side');
  h.github().state.repo().importGit(p.dir);
  expect((await tag(a, inputs)).version).toBe('0.1.1');
  expect(await tag(c, inputs)).toMatchObject({ version: '0.1.2', superseded: '' });
  expect(h.github().state.repo().tag('v0.1.2')?.commit).toBe(c);
});
