/**
 * Two quick pushes that both compute 0.1.1: the version is reserved by its tag before anything
 * is built, so the run that lost the race takes 0.1.2, and deploy refuses a version held by
 * another commit. Against the OpenAPI-checked GitHub server and one real git repository.
 */
import { stringify } from 'yaml';
import { nextFree } from '../../src/release/reserve.js';
import { logged } from '../deploy/fixture.js';
import { reserveHarness } from './reserve-harness.js';

const TOKEN = 'ghs_reserveTestToken0123456789';
const h = reserveHarness(TOKEN, '77');
const { tag } = h;
const { deploy } = h;

test('the next free version keeps the kind of the one taken', () => {
  expect(nextFree('0.1.1')).toBe('0.1.2');
  expect(nextFree('0.2.0')).toBe('0.3.0');
  expect(nextFree('2.0.0')).toBe('3.0.0');
  expect(nextFree('1.4.0-rc.1')).toBe('1.4.0-rc.2');
});

test('two runs that computed one version: each commit gets its own, and deploy holds to it', async () => {
  const p = h.product();
  const gh = h.github();
  p.writeConfig(
    stringify({ components: { api: { deploy: { run: logged() } } }, environments: { staging: { url: p.url } } }),
  );
  p.repo.commit('chore: init');
  p.repo.tag('v0.1.0');
  const a = p.repo.commit('fix: rounding');
  const b = p.repo.commit('fix: totals');
  gh.state.repo().importGit(p.dir);

  // Both pushes computed 0.1.1 from v0.1.0; their version jobs reserve at the same moment.
  const versions = JSON.stringify({ api: '0.1.1', sdk: '2.0.0' });
  const [ra, rb] = await Promise.all([
    tag(a, { version: '0.1.1', reserve: true, versions }),
    tag(b, { version: '0.1.1', reserve: true, versions }),
  ]);
  // The versions to build and deploy at follow the product's reservation; an own series keeps its own.
  for (const r of [ra, rb]) expect(JSON.parse(r.versions)).toEqual({ api: r.version, sdk: '2.0.0' });
  const won = [ra, rb].map((o) => o.version).sort();
  expect(won).toEqual(['0.1.1', '0.1.2']);
  const state = gh.state.repo();
  const byCommit = new Map([
    [a, ra.version],
    [b, rb.version],
  ]);
  for (const [commit, version] of byCommit) expect(state.tag(`v${version}`)?.commit).toBe(commit);
  expect(state.releases).toEqual([]);

  // A re-run of a reservation changes nothing; the release job later adds the release to the tag.
  const again = await tag(a, { version: ra.version, reserve: true });
  expect(again).toMatchObject({ version: ra.version, created: 'false' });
  const released = await tag(a, { version: ra.version });
  expect(released.created).toBe('true');
  expect(state.tag(`v${ra.version}`)?.commit).toBe(a);

  // Each commit deploys under its own version; B's code under A's version is refused in one line.
  expect(await deploy(a, ra.version)).toBeNull();
  const wrong = await deploy(b, ra.version);
  expect(wrong?.message).toMatch(new RegExp(`${ra.version.replace(/\./g, '\\.')}.*${a.slice(0, 7)}`));
  expect(await deploy(b, rb.version)).toBeNull();
});
