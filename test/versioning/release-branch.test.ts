/**
 * A release branch after its promotion, with main releasing on: the product of the probe
 * (a library and a service that follow the product, a worker with its own series that
 * depends on the library, a web app), each push versioned and its tags written back as the
 * release workflow's reserve does.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { inputVariable, parseInputs } from '../../src/core/inputs.js';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { versionBump } from '../../src/versioning/version-bump.js';
import { createRepo, type TestRepo } from '../helpers/git-repo.js';

const BRANCH = 'release/0.4';
const POLICY = [
  'versioning: { tag: "v{version}" }',
  'components:',
  '  shared: { paths: [libs/shared/**], series: product }',
  '  api: { paths: [api/**], series: product, dependsOn: [shared] }',
  '  worker: { paths: [worker/**], tag: "worker/v{version}", dependsOn: [shared] }',
  '  web: { paths: [web/**], series: product }',
  '',
].join('\n');

interface Component {
  version: string;
  release: boolean;
  bump: string;
  tag: string;
  'candidate-of'?: string;
}

const repos: TestRepo[] = [];
afterEach(() => {
  while (repos.length) repos.pop()!.cleanup();
});

/** Released at v0.3.0 and worker/v0.1.2 on main; release/0.4 cut there, nothing on it yet. */
function product(): TestRepo {
  const r = createRepo();
  repos.push(r);
  r.commit('chore: scaffold', {
    '.github/slipway.yml': POLICY,
    'libs/shared/a.ts': '1\n',
    'api/main.go': '1\n',
    'worker/main.go': '1\n',
    'web/app.ts': '1\n',
  });
  r.tag('v0.3.0');
  r.tag('worker/v0.1.2');
  r.git('checkout', '-q', '-b', BRANCH);
  return r;
}

/** One push's version job: version-bump for GITHUB_REF's branch, then the tags of what it released, at HEAD. */
async function push(r: TestRepo, branch: string, promote = false) {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, GITHUB_REF: `refs/heads/${branch}` };
  if (promote) env[inputVariable('promote')] = 'true';
  const rt = createMemoryRuntime({ env, cwd: r.dir });
  await versionBump.run(parseInputs(versionBump.inputs, env, rt), rt);
  const out = rt.outputs;
  const components = JSON.parse(out.components) as Record<string, Component>;
  if (out.release === 'true') r.tag(out.tag);
  for (const c of Object.values(components)) if (c.release) r.tag(c.tag);
  return { out, worker: components.worker, log: rt.text() };
}

/** The branch's first candidate (a worker fix), promoted: worker/v0.1.3 and v0.4.0 on the branch. */
async function promoted(r: TestRepo) {
  r.commit('fix(worker): retries', { 'worker/main.go': '2\n' });
  const rc = await push(r, BRANCH);
  expect(rc.worker).toMatchObject({ version: '0.1.3-rc.1', release: true });
  const final = await push(r, BRANCH, true);
  expect(final.worker).toMatchObject({ version: '0.1.3', release: true, tag: 'worker/v0.1.3' });
  expect(final.out).toMatchObject({ version: '0.4.0', release: 'true' });
}

describe('a release branch after its promotion', () => {
  it("gives a component's own-series fix the patch after the series' highest once main released the next one", async () => {
    const r = product();
    await promoted(r);
    // main releases the worker's next patch, on code the branch does not have.
    r.git('checkout', '-q', 'main');
    r.commit('fix(worker): main only', { 'worker/main.go': 'main\n' });
    const main = await push(r, 'main');
    expect(main.worker).toMatchObject({ version: '0.1.4', release: true });
    r.git('checkout', '-q', BRANCH);

    r.commit('fix(worker): another', { 'worker/main.go': '3\n' });
    const fix = await push(r, BRANCH);
    expect(fix.worker).toMatchObject({
      version: '0.1.5-rc.1',
      release: true,
      bump: 'patch',
      tag: 'worker/v0.1.5-rc.1',
      'candidate-of': '0.1.5',
    });
    expect(fix.log).toMatch(
      /worker: 0\.1\.3 → 0\.1\.5-rc\.1 \(.*worker\/v0\.1\.4 exists outside this history.*the patch after the series' highest/,
    );
    // The branch's name pins the product's version only: a component is never told to bump it.
    expect(fix.log).not.toMatch(/worker: .*bump the release branch/);
  });

  it('says bump none whenever nothing is released: the product on a released branch, a component still at its candidate', async () => {
    const r = product();
    r.commit('fix(worker): retries', { 'worker/main.go': '2\n' });
    await push(r, BRANCH);
    // A web-only push: the worker stays at its candidate, released by the push before.
    r.commit('fix(web): layout', { 'web/app.ts': '2\n' });
    const web = await push(r, BRANCH);
    expect(web.worker).toMatchObject({ version: '0.1.3-rc.1', release: false, bump: 'none' });
    expect(web.worker['candidate-of']).toBe('0.1.3');

    await push(r, BRANCH, true);
    r.commit('fix(web): after the release', { 'web/app.ts': '3\n' });
    const after = await push(r, BRANCH);
    expect(after.out).toMatchObject({ version: '0.4.0', release: 'false', bump: 'none', 'candidate-of': '' });
    expect(after.log).toContain('repository: 0.4.0 → 0.4.0 (0.4.0 is already released');
    expect(after.worker).toMatchObject({ version: '0.1.3', release: false, bump: 'none' });
  });

  it('gives no candidate-of to a series with no candidate', async () => {
    const r = product();
    // The branch cut with nothing on it: neither the product nor the worker has a candidate.
    const empty = await push(r, BRANCH);
    expect(empty.out).toMatchObject({ version: '0.3.0', release: 'false', bump: 'none', 'candidate-of': '' });
    expect(empty.worker).toEqual({
      version: '0.1.2',
      release: false,
      bump: 'none',
      'previous-version': '0.1.2',
      tag: 'worker/v0.1.2',
    });
    // A web-only first push: a product candidate, none for the worker.
    r.commit('fix(web): layout', { 'web/app.ts': '2\n' });
    const web = await push(r, BRANCH);
    expect(web.out).toMatchObject({ version: '0.4.0-rc.1', 'candidate-of': '0.4.0' });
    expect(web.worker).toMatchObject({ version: '0.1.2', release: false, bump: 'none' });
    expect(web.worker).not.toHaveProperty('candidate-of');
  });

  it('says a component was promoted already on a second promote run of the same HEAD, as it says of the product', async () => {
    const r = product();
    await promoted(r);
    const again = await push(r, BRANCH, true);
    expect(again.out).toMatchObject({ version: '0.4.0', release: 'false' });
    expect(again.worker).toMatchObject({ version: '0.1.3', release: false, bump: 'none', tag: 'worker/v0.1.3' });
    expect(again.log).toContain('repository: 0.4.0 → 0.4.0 (HEAD is already v0.4.0 (promoted))');
    expect(again.log).toContain('worker: 0.1.3 → 0.1.3 (HEAD is already worker/v0.1.3 (promoted))');
    // The branch moved on without a worker change: promoted already, on the commit it names.
    const promotedAt = r.head();
    r.commit('fix(web): later', { 'web/app.ts': '2\n' });
    const later = await push(r, BRANCH, true);
    expect(later.worker).toMatchObject({ version: '0.1.3', release: false, bump: 'none' });
    expect(later.log).toContain(`worker: 0.1.3 → 0.1.3 (worker/v0.1.3 was promoted on ${promotedAt.slice(0, 7)};`);
  });
});

describe('a release branch that names no version', () => {
  it('steps past a version tagged outside its history, as main does, and never says to bump the branch', async () => {
    const r = createRepo();
    repos.push(r);
    r.commit('feat: base');
    r.tag('v2.1.0');
    r.git('checkout', '-q', '-b', 'release/next');
    r.git('checkout', '-q', 'main');
    r.commit('fix: main only');
    r.tag('v2.1.1');
    r.git('checkout', '-q', 'release/next');
    r.commit('fix: on the branch');
    const next = await push(r, 'release/next');
    expect(next.out).toMatchObject({ version: '2.1.2-rc.1', release: 'true', bump: 'patch', 'candidate-of': '2.1.2' });
    expect(next.log).toContain(
      "v2.1.1 exists outside this history (main or another release branch), so the patch after the series' highest",
    );
    expect(next.log).not.toContain('bump the release branch');
  });
});
