/**
 * Several tag series in one repository, any tag shape git accepts: version-bump,
 * tag-release and build-selective read the same tags and agree on every series.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createBuildSelective, localServices } from '../../src/changes/build-selective.js';
import type { ActionDefinition, InputFields } from '../../src/core/inputs.js';
import { inputVariable, parseInputs } from '../../src/core/inputs.js';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { invokeAction } from '../../src/pipeline/invoke.js';
import { tagRelease } from '../../src/release/tag-release.js';
import { versionBump } from '../../src/versioning/version-bump.js';
import { parseConfig } from '../../src/core/config.js';
import { runDeploy } from '../../src/deploy/deploy.js';
import { FileLedger } from '../../src/deploy/record/file-ledger.js';
import { createProduct, logged } from '../deploy/fixture.js';
import { createRepo, type TestRepo } from '../helpers/git-repo.js';
import { startGitHubServer } from '../helpers/github-server.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const POLICY = [
  'versioning: { tag: "v{version}" }',
  'components:',
  '  api: { paths: [services/api/**], series: product }',
  '  py: { paths: [sdk/python/**], tag: "py/{version}" }',
  '  web: { paths: [web/**], tag: "@acme/web@{version}" }',
  '  rb: { paths: [sdk/ruby/**], tag: "rb/{version}" }',
  '',
].join('\n');

/** A monorepo whose series were last released at 0.104.7, py/1.37.5, @acme/web@2.3.0 and rb/0.9.2. */
function monorepo(policy = POLICY): { r: TestRepo; productTag: string; pyFix: string; pyOld: string } {
  const r = createRepo();
  cleanups.push(() => r.cleanup());
  r.commit('chore: scaffold', {
    '.github/slipway.yml': policy,
    'services/api/main.go': 'package main\n',
    'sdk/python/client.py': 'x = 1\n',
    'web/app.ts': 'app\n',
    'sdk/ruby/client.rb': 'x = 1\n',
  });
  r.tag('v0.104.7');
  r.tag('@acme/web@2.3.0');
  r.tag('rb/0.9.2', 'HEAD', false);
  const productTag = r.head();
  r.commit('fix(api): timeouts', { 'services/api/main.go': 'package main // 2\n' });
  r.commit('fix(web): layout', { 'web/app.ts': 'app 2\n' });
  const pyOld = r.commit('fix(py): encoding', { 'sdk/python/client.py': 'x = 2\n' });
  // A fresh component tag, newer than every product change: it must hide none of them.
  r.tag('py/1.37.5');
  const pyFix = r.commit('fix(py): retries', { 'sdk/python/client.py': 'x = 3\n' });
  r.commit('fix(rb): nil', { 'sdk/ruby/client.rb': 'x = 2\n' });
  return { r, productTag, pyFix, pyOld };
}

function envOf(inputs: Record<string, string>, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...extra };
  for (const [k, v] of Object.entries(inputs)) env[inputVariable(k)] = v;
  return env;
}

async function bump(r: TestRepo, inputs: Record<string, string> = {}) {
  const env = envOf({ branch: 'main', ...inputs });
  const rt = createMemoryRuntime({ env, cwd: r.dir });
  await versionBump.run(parseInputs(versionBump.inputs, env, rt), rt);
  return { outputs: rt.outputs, log: rt.text() };
}

async function selective(r: TestRepo, inputs: Record<string, string> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-series-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'event.json'), '{}');
  const env = envOf(inputs, {
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    GITHUB_EVENT_PATH: path.join(dir, 'event.json'),
  });
  const action = createBuildSelective(localServices);
  const rt = createMemoryRuntime({ env, cwd: r.dir });
  await action.run(parseInputs(action.inputs, env, rt), rt);
  return { outputs: rt.outputs, log: rt.text() };
}

async function tagDryRun(r: TestRepo, inputs: Record<string, string>) {
  const rt = createMemoryRuntime({ cwd: r.dir, env: { PATH: process.env.PATH } });
  return invokeAction(
    tagRelease as unknown as ActionDefinition<InputFields>,
    { token: '', 'dry-run': 'true', ...inputs },
    rt,
  );
}

describe('tag series of any shape', () => {
  it('version-bump, tag-release and build-selective agree on 0.104.8, 1.37.6, 2.3.1 and 0.9.3', async () => {
    const { r, productTag, pyFix, pyOld } = monorepo();

    const vb = await bump(r);
    expect(vb.outputs.version).toBe('0.104.8');
    expect(vb.outputs['previous-tag']).toBe('v0.104.7');
    const comps = JSON.parse(vb.outputs.components) as Record<string, Record<string, unknown>>;
    expect(comps.py).toMatchObject({ version: '1.37.6', 'previous-version': '1.37.5', tag: 'py/1.37.6' });
    expect(comps.web).toMatchObject({ version: '2.3.1', 'previous-version': '2.3.0', tag: '@acme/web@2.3.1' });
    expect(comps.rb).toMatchObject({ version: '0.9.3', 'previous-version': '0.9.2', tag: 'rb/0.9.3' });
    // api follows the product: no series of its own, deployed at the product version.
    expect(comps.api).toBeUndefined();
    expect(JSON.parse(vb.outputs.versions)).toEqual({ api: '0.104.8', py: '1.37.6', web: '2.3.1', rb: '0.9.3' });
    expect(JSON.parse(vb.outputs.released)).toEqual(['api', 'py', 'web', 'rb']);
    expect((await bump(r, { component: 'api' })).outputs).toMatchObject({ version: '0.104.8', tag: 'v0.104.8' });

    // One component at a time, as a matrix job asks.
    expect((await bump(r, { component: 'web' })).outputs.tag).toBe('@acme/web@2.3.1');

    // tag-release starts each series' notes from that series' previous tag.
    for (const [component, version, previous] of [
      ['', '0.104.8', 'v0.104.7'],
      ['py', '1.37.6', 'py/1.37.5'],
      ['web', '2.3.1', '@acme/web@2.3.0'],
      ['rb', '0.9.3', 'rb/0.9.2'],
    ]) {
      const out = await tagDryRun(r, { component, version });
      expect(out.notes).toContain(`(\`${previous}\`)`);
    }
    expect((await tagDryRun(r, { component: 'api', version: '0.104.8' })).tag).toBe('v0.104.8');
    const py = await tagDryRun(r, { component: 'py', version: '1.37.6' });
    expect(py.tag).toBe('py/1.37.6');
    expect(py.notes).toContain(pyFix.slice(0, 7));
    expect(py.notes).not.toContain(pyOld.slice(0, 7));

    // build-selective's base is the product's last tag, not the fresher py/1.37.5.
    const bs = await selective(r);
    expect(bs.outputs.base).toBe(productTag);
    expect(JSON.parse(bs.outputs.changed)).toEqual(['api', 'py', 'web', 'rb']);
    expect(bs.log).toContain('the last tag of the product series, v0.104.7');
  });

  it('reads paths as build-selective does: `!` excludes and braces expand, so the two agree', async () => {
    const r = createRepo();
    cleanups.push(() => r.cleanup());
    r.commit('chore: scaffold', {
      '.github/slipway.yml': [
        'components:',
        '  api: { paths: ["api/**", "!api/docs/**"] }',
        '  svc: { paths: ["services/{a,b}/**"] }',
        '',
      ].join('\n'),
      'api/main.go': '1\n',
      'api/docs/guide.md': '1\n',
      'services/b/main.go': '1\n',
    });
    for (const t of ['v0.1.0', 'api-v0.1.0', 'svc-v0.1.0']) r.tag(t);
    r.commit('feat: docs only change in api', { 'api/docs/guide.md': '2\n' });
    r.commit('fix: svc b fix', { 'services/b/main.go': '2\n' });
    const comps = JSON.parse((await bump(r)).outputs.components) as Record<string, Record<string, unknown>>;
    expect(comps.api).toMatchObject({ version: '0.1.0', release: false });
    expect(comps.svc).toMatchObject({ version: '0.1.1', release: true, tag: 'svc-v0.1.1' });
    expect(JSON.parse((await selective(r)).outputs.changed)).toEqual(['svc']);
  });

  it('reads `{version}` alone and `sdk/python/v{version}`', async () => {
    const r = createRepo();
    cleanups.push(() => r.cleanup());
    r.commit('chore: scaffold', {
      '.github/slipway.yml': [
        'versioning: { tag: "{version}" }',
        'components:',
        '  py: { paths: [sdk/python/**], tag: "sdk/python/v{version}" }',
        '',
      ].join('\n'),
      'sdk/python/a.py': '1\n',
    });
    r.tag('3.1.4');
    r.tag('sdk/python/v1.0.0');
    r.commit('feat(py): stream', { 'sdk/python/a.py': '2\n' });
    const vb = await bump(r);
    expect(vb.outputs.version).toBe('3.2.0');
    expect(vb.outputs.tag).toBe('3.2.0');
    expect(JSON.parse(vb.outputs.components).py).toMatchObject({ version: '1.1.0', tag: 'sdk/python/v1.1.0' });
  });
});

describe('components.<name>.series', () => {
  it('product: deployed at the product version with no tag of its own; own: at its own version', async () => {
    const p = await createProduct();
    cleanups.push(() => p.close());
    p.writeConfig(
      [
        'components:',
        '  api: { paths: [api/**], series: product, deploy: { run: "$RUN" } }',
        '  py: { paths: [py/**], tag: "py/{version}", deploy: { run: "$RUN" } }',
        '  db: { kind: data, deploy: { run: "$RUN" } }',
        'environments: { staging: { url: $URL } }',
        '',
      ]
        .join('\n')
        .replaceAll('$RUN', logged().replaceAll('"', '\\"')),
    );
    p.repo.tag('v1.4.0');
    p.repo.tag('py/0.3.0');
    p.repo.commit('feat(api): orders', { 'api/main.go': '1\n' });
    p.repo.commit('fix(py): retries', { 'py/client.py': '1\n' });
    const vb = await bump(p.repo);
    expect(vb.outputs.version).toBe('1.5.0');
    expect(Object.keys(JSON.parse(vb.outputs.components))).toEqual(['py']);
    const rt = p.runtime();
    await runDeploy({
      inputs: p.inputs({ environment: 'staging', timeout: '2', version: vb.outputs.versions }),
      record: new FileLedger(p.dir),
      runtime: rt,
    });
    const ends = Object.fromEntries(
      p
        .log()
        .filter((l) => l.event === 'end')
        .map((l) => [l.component, l.version]),
    );
    expect(ends).toEqual({ db: '1.5.0', api: '1.5.0', py: '0.3.1' });
  });

  it('is checked: own needs paths, product carries no other tag', () => {
    expect(() => parseConfig('components:\n  a: { series: own }\n', 'p.yml')).toThrow(
      /p\.yml:2:.*series: own needs paths/,
    );
    expect(() =>
      parseConfig('components:\n  a: { paths: [a/**], series: product, tag: "a/{version}" }\n', 'p.yml'),
    ).toThrow(/series: product is released under versioning.tag/);
    expect(() => parseConfig('components:\n  a: { paths: [a/**], series: mine }\n', 'p.yml')).toThrow(
      /expected own or product/,
    );
    // Following the product under its template is no duplicate series.
    const c = parseConfig('components:\n  a: { paths: [a/**], series: product, tag: "v{version}" }\n', 'p.yml');
    expect(c.components.a.series).toBe('product');
  });
});

describe('the pipeline creates the tags and releases of every series that moved', () => {
  it('one run of version-bump then tag-release: a tag and a release per series; a second run creates nothing', async () => {
    const TOKEN = 'ghs_seriesTestToken0123456789abcdef';
    const gh = await startGitHubServer({ token: TOKEN });
    cleanups.push(() => gh.stop());
    const { r, pyFix } = monorepo();
    gh.state.repo().importGit(r.dir);

    /** The main workflow's version and release steps, through the actions' own run functions. */
    const pipelineRun = async () => {
      const vb = await bump(r);
      const rt = createMemoryRuntime({
        cwd: r.dir,
        env: {
          PATH: process.env.PATH,
          GITHUB_API_URL: gh.url,
          GITHUB_REPOSITORY: 'acme/shop',
          GITHUB_SHA: r.head(),
          GITHUB_REF: 'refs/heads/main',
          SLIPWAY_RETRY_BASE_MS: '1',
        },
      });
      const outputs = await invokeAction(
        tagRelease as unknown as ActionDefinition<InputFields>,
        {
          token: TOKEN,
          version: vb.outputs.release === 'true' ? vb.outputs.version : '',
          components: vb.outputs.components,
        },
        rt,
      );
      return { vb, outputs };
    };

    const first = await pipelineRun();
    const state = gh.state.repo();
    const head = r.head();
    for (const tag of ['v0.104.8', 'py/1.37.6', '@acme/web@2.3.1', 'rb/0.9.3'])
      expect(state.tag(tag)).toMatchObject({ commit: head, annotated: true });
    expect(state.releases.map((x) => x.tag_name).sort()).toEqual([
      '@acme/web@2.3.1',
      'py/1.37.6',
      'rb/0.9.3',
      'v0.104.8',
    ]);
    expect(first.outputs.tag).toBe('v0.104.8');
    expect(JSON.parse(first.outputs.components)).toMatchObject({
      py: { tag: 'py/1.37.6', created: true },
      web: { tag: '@acme/web@2.3.1', created: true },
      rb: { tag: 'rb/0.9.3', created: true },
    });
    // A component's notes hold only its own commits, and it never becomes "latest".
    const py = state.releases.find((x) => x.tag_name === 'py/1.37.6')!;
    expect(py).toMatchObject({ name: 'py 1.37.6', make_latest: 'false' });
    expect(py.body).toContain(pyFix.slice(0, 7));
    expect(py.body).toContain('(`py/1.37.5`)');
    expect(py.body).not.toContain('timeouts');
    expect(py.body).not.toContain('layout');
    const product = state.releases.find((x) => x.tag_name === 'v0.104.8')!;
    expect(product.body).toContain('timeouts');

    // The same run again (a re-run of the workflow): nothing new is written.
    const writes = () => gh.requests.filter((x) => x.method !== 'GET').length;
    const before = writes();
    const again = await pipelineRun();
    expect(writes()).toBe(before);
    expect(again.outputs.created).toBe('false');
    expect(Object.values(JSON.parse(again.outputs.components)).map((x) => (x as { created: boolean }).created)).toEqual(
      [false, false, false],
    );

    // The next run, on a checkout that has the new tags: every series is released already.
    for (const tag of ['v0.104.8', 'py/1.37.6', '@acme/web@2.3.1', 'rb/0.9.3']) r.tag(tag);
    const next = await pipelineRun();
    expect(next.vb.outputs.release).toBe('false');
    expect(
      Object.values(JSON.parse(next.vb.outputs.components)).every((x) => !(x as { release: boolean }).release),
    ).toBe(true);
    expect(writes()).toBe(before);
    expect(gh.violations).toEqual([]);
  });
});

describe('release branches', () => {
  it('say what was decided: a candidate of 0.105.0, with its notes', async () => {
    const { r } = monorepo();
    r.git('checkout', '-q', '-b', 'release/0.105');
    const vb = await bump(r, { branch: 'release/0.105' });
    expect(vb.outputs).toMatchObject({
      version: '0.105.0-rc.1',
      release: 'true',
      bump: 'minor',
      'candidate-of': '0.105.0',
      channel: 'rc',
      'previous-tag': 'v0.104.7',
    });
    expect(vb.outputs.notes).toMatch(/^Release candidate 0\.105\.0-rc\.1 of 0\.105\.0: the changes since v0\.104\.7\./);
    expect(vb.outputs.notes).toContain('### Fixes');
    expect(vb.outputs.notes).toContain('**api:** timeouts');
    // release/0.105 names the product's version: each own series gets its own next version as a candidate.
    const comps = JSON.parse(vb.outputs.components) as Record<string, Record<string, unknown>>;
    expect(comps.py).toMatchObject({ version: '1.37.6-rc.1', tag: 'py/1.37.6-rc.1', 'candidate-of': '1.37.6' });
    expect(comps.web).toMatchObject({ version: '2.3.1-rc.1', tag: '@acme/web@2.3.1-rc.1', release: true });
    expect(comps.rb).toMatchObject({ version: '0.9.3-rc.1', tag: 'rb/0.9.3-rc.1' });
    expect(JSON.parse(vb.outputs.versions)).toEqual({
      api: '0.105.0-rc.1',
      py: '1.37.6-rc.1',
      web: '2.3.1-rc.1',
      rb: '0.9.3-rc.1',
    });
    // A candidate tagged, then a new py fix: only py moves to its next candidate.
    r.tag('py/1.37.6-rc.1');
    r.commit('fix(py): again', { 'sdk/python/client.py': 'x = 4\n' });
    const next = JSON.parse((await bump(r, { branch: 'release/0.105' })).outputs.components);
    expect(next.py).toMatchObject({ version: '1.37.6-rc.2', release: true });
    // ownSeries: none: the product alone gets candidates on release branches.
    writeFileSync(
      path.join(r.dir, '.github/slipway.yml'),
      POLICY.replace(
        'versioning: { tag: "v{version}" }',
        'versioning:\n  tag: "v{version}"\n  branches:\n    - { match: main, channel: stable }\n    - { match: "release/*", channel: rc, ownSeries: none }',
      ),
    );
    const none = await bump(r, { branch: 'release/0.105' });
    expect(none.outputs.version).toBe('0.105.0-rc.1');
    expect(JSON.parse(none.outputs.components).py).toMatchObject({
      release: false,
      version: '1.37.5',
      tag: 'py/1.37.5',
    });
    expect(JSON.parse(none.outputs.versions).py).toBe('1.37.5');
    // py keeps 1.37.5, another commit's version: build-selective holds it back; the product's series moves.
    expect(JSON.parse(none.outputs.released)).toEqual(['api']);
    // On main, a plain release: no candidate.
    r.git('checkout', '-q', 'main');
    expect((await bump(r)).outputs).toMatchObject({ bump: 'patch', 'candidate-of': '' });
  });
});

describe('release branches, push after push', () => {
  it('give a series a new candidate only when a commit since its newest candidate touches it', async () => {
    const { r } = monorepo();
    r.git('checkout', '-q', '-b', 'release/0.105');
    const first = await bump(r, { branch: 'release/0.105' });
    const firstComps = JSON.parse(first.outputs.components) as Record<string, Record<string, string>>;
    // The workflow tags what moved at the commit of the run.
    for (const tag of [first.outputs.tag, ...Object.values(firstComps).map((c) => c.tag)]) r.tag(tag);

    // A push that touches the api only: the product gets its next candidate, the components none.
    r.commit('fix(api): retry budget', { 'services/api/main.go': 'package main // 3\n' });
    const second = await bump(r, { branch: 'release/0.105' });
    expect(second.outputs).toMatchObject({ release: 'true', 'candidate-of': first.outputs['candidate-of'] });
    expect(second.outputs.version).not.toBe(first.outputs.version);
    const comps = JSON.parse(second.outputs.components) as Record<string, Record<string, unknown>>;
    for (const name of ['py', 'web', 'rb']) {
      // Nothing of theirs changed since their candidate: that candidate is still the one, not released again.
      expect(comps[name]).toMatchObject({
        release: false,
        version: firstComps[name].version,
        tag: firstComps[name].tag,
        'candidate-of': firstComps[name]['candidate-of'],
      });
      expect(JSON.parse(second.outputs.versions)[name]).toBe(firstComps[name].version);
    }
    expect(second.log).toMatch(/no commit since py\/1\.37\.6-rc\.1 touches its paths/);

    // A push that touches py: py, and only py among the components, gets its next candidate.
    r.tag(second.outputs.tag);
    r.commit('fix(py): timeouts', { 'sdk/python/client.py': 'x = 5\n' });
    const third = JSON.parse((await bump(r, { branch: 'release/0.105' })).outputs.components) as Record<
      string,
      Record<string, unknown>
    >;
    expect(third.py).toMatchObject({ release: true });
    expect(third.py.version).not.toBe(firstComps.py.version);
    expect(third.web).toMatchObject({ release: false, version: firstComps.web.version });
  });
});

describe('dependsOn (rebuild, re-version and order) and deployAfter (order only)', () => {
  const policy = [
    'components:',
    '  shared: { paths: [libs/shared/**] }',
    '  api: { paths: [api/**], dependsOn: [shared], deploy: { run: "$RUN" } }',
    '  web: { paths: [web/**], deployAfter: [api], deploy: { run: "$RUN" } }',
    'environments: { staging: { url: $URL } }',
    '',
  ].join('\n');

  it('a frontend that deploys after the API is not rebuilt nor re-versioned when only the API changed, and still deploys after it', async () => {
    const p = await createProduct();
    cleanups.push(() => p.close());
    p.writeConfig(policy.replaceAll('$RUN', logged().replaceAll('"', '\\"')));
    p.repo.commit('chore: scaffold', { 'libs/shared/a.ts': '1\n', 'api/main.go': '1\n', 'web/app.ts': '1\n' });
    for (const t of ['v1.0.0', 'shared-v1.0.0', 'api-v1.0.0', 'web-v1.0.0']) p.repo.tag(t);

    p.repo.commit('fix(api): timeouts', { 'api/main.go': '2\n' });
    const bs = await selective(p.repo);
    expect(JSON.parse(bs.outputs.changed)).toEqual(['api']);
    const vb = await bump(p.repo);
    const comps = JSON.parse(vb.outputs.components) as Record<string, { release: boolean; version: string }>;
    expect(comps.api).toMatchObject({ release: true, version: '1.0.1' });
    expect(comps.web).toMatchObject({ release: false, version: '1.0.0' });

    // A shared library's change rebuilds and re-versions what dependsOn it, and nothing that only deploys after.
    p.repo.commit('feat(shared): cache', { 'libs/shared/a.ts': '2\n' });
    expect(JSON.parse((await selective(p.repo)).outputs.changed)).toEqual(['shared', 'api']);
    const after = JSON.parse((await bump(p.repo)).outputs.components);
    expect(after.api).toMatchObject({ release: true, version: '1.1.0' });
    expect(after.web).toMatchObject({ release: false });

    // Both deployed: web waits for api.
    await runDeploy({
      inputs: p.inputs({ environment: 'staging', timeout: '2', version: '1.1.0', components: '["web","api"]' }),
      record: new FileLedger(p.dir),
      runtime: p.runtime(),
    });
    const log = p.log().map((l) => `${l.event} ${l.component}`);
    expect(log).toEqual(['start api', 'end api', 'start web', 'end web']);
  });

  it('a cycle through deployAfter is refused, naming it', () => {
    expect(() =>
      parseConfig(
        'components:\n  a: { deployAfter: [b] }\n  b: { dependsOn: [a] }\n  c: { deployAfter: [zz] }\n',
        'p.yml',
      ),
    ).toThrow(/unknown component "zz"|dependency cycle/);
    expect(() => parseConfig('components:\n  a: { deployAfter: [b] }\n  b: { dependsOn: [a] }\n', 'p.yml')).toThrow(
      /p\.yml:2:.*dependency cycle: a → b → a/,
    );
  });
});

describe('a component series with no tag of its own yet', () => {
  it("continues from the product's last release, so its first own version is no downgrade", async () => {
    const r = createRepo();
    cleanups.push(() => r.cleanup());
    r.commit('chore: scaffold', {
      '.github/slipway.yml': 'components:\n  api: { paths: [api/**] }\n  web: { paths: [web/**] }\n',
      'api/a.go': '1\n',
      'web/a.ts': '1\n',
    });
    r.tag('v1.4.0');
    r.commit('fix(api): timeouts', { 'api/a.go': '2\n' });
    const vb = await bump(r);
    const comps = JSON.parse(vb.outputs.components);
    expect(comps.api).toMatchObject({
      version: '1.4.1',
      release: true,
      'previous-version': '1.4.0',
      tag: 'api-v1.4.1',
    });
    expect(comps.web).toMatchObject({ version: '1.4.0', release: false });
    expect(JSON.parse(vb.outputs.versions)).toEqual({ api: '1.4.1', web: '1.4.0' });
    // tag-release counts its notes from the same release, and rolls back to it.
    const tr = await tagDryRun(r, { component: 'api', version: '1.4.1' });
    expect(tr.tag).toBe('api-v1.4.1');
    expect(tr.notes).toContain('**Roll back to:** 1.4.0 (`v1.4.0`)');
    expect(tr.notes).toContain('timeouts');
    expect(tr.notes).not.toContain('scaffold');
  });
});

describe('build-selective builds each component at its own version', () => {
  it("takes version-bump's versions output as its version input", async () => {
    const r = createRepo();
    cleanups.push(() => r.cleanup());
    const build = 'echo \\"$SLIPWAY_VERSION\\" > built-$SLIPWAY_COMPONENT.txt';
    r.commit('chore: scaffold', {
      '.github/slipway.yml': `components:\n  api: { paths: [api/**], build: { run: "${build}" } }\n  web: { paths: [web/**], series: product, build: { run: "${build}" } }\n`,
      'api/a.go': '1\n',
      'web/a.ts': '1\n',
    });
    r.tag('v1.4.0');
    r.commit('fix(api): timeouts', { 'api/a.go': '2\n' });
    r.commit('feat(web): page', { 'web/a.ts': '2\n' });
    const vb = await bump(r);
    expect(JSON.parse(vb.outputs.versions)).toEqual({ api: '1.4.1', web: '1.5.0' });
    await selective(r, { run: 'true', version: vb.outputs.versions });
    expect(readFileSync(path.join(r.dir, 'built-api.txt'), 'utf8').trim()).toBe('1.4.1');
    expect(readFileSync(path.join(r.dir, 'built-web.txt'), 'utf8').trim()).toBe('1.5.0');
    await expect(selective(r, { run: 'true', version: '{nope' })).rejects.toThrow(
      /^input "version": expected a version or a JSON object/,
    );
  });
});
