import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { isUserError } from '../../src/core/errors.js';
import { createMemoryRuntime, type MemoryRuntime } from '../../src/core/memory-runtime.js';
import { invokeAction } from '../../src/pipeline/invoke.js';
import type { ActionDefinition, InputFields } from '../../src/core/inputs.js';
import { tagRelease } from '../../src/release/tag-release.js';
import { composeNotes, MAX_NOTES_CHARS, previousTag } from '../../src/release/notes.js';
import { prependEntry } from '../../src/release/publish.js';
import { parseCommit } from '../../src/versioning/conventional.js';
import { cloneRepo, createRepo, type TestRepo } from '../helpers/git-repo.js';
import { startGitHubServer, type GitHubServer } from '../helpers/github-server.js';

const TOKEN = 'ghs_tagReleaseSecret0123456789abcdef';
let gh: GitHubServer;
let repo: TestRepo;

beforeEach(async () => {
  gh = await startGitHubServer({ token: TOKEN });
  repo = createRepo();
});
afterEach(async () => {
  expect(gh.violations).toEqual([]);
  await gh.stop();
  repo.cleanup();
});

/** Run tag-release as the runner would (inputs as INPUT_*), against the fake GitHub. */
async function release(
  inputs: Record<string, string | boolean>,
  env: Record<string, string> = {},
): Promise<{ outputs: Record<string, string>; rt: MemoryRuntime }> {
  const rt = createMemoryRuntime({
    cwd: repo.dir,
    env: {
      PATH: process.env.PATH,
      GITHUB_API_URL: gh.url,
      GITHUB_REPOSITORY: 'acme/shop',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_SHA: repo.head(),
      GITHUB_REF: 'refs/heads/main',
      SLIPWAY_RETRY_BASE_MS: '1',
      ...env,
    },
  });
  const outputs = await invokeAction(
    tagRelease as unknown as ActionDefinition<InputFields>,
    { token: TOKEN, ...inputs },
    rt,
  );
  return { outputs, rt };
}

const writes = () => gh.requests.filter((r) => r.method !== 'GET');

describe('tag-release', () => {
  it('creates the annotated tag, then the release with grouped notes', async () => {
    repo.commit('chore: init');
    repo.commit('feat(api): list orders (#12)');
    const head = repo.commit('fix: rounding of totals');
    gh.state.repo().importGit(repo.dir);

    const { outputs, rt } = await release({ version: '1.0.0' });

    const state = gh.state.repo();
    const tag = state.tag('v1.0.0')!;
    expect(tag).toEqual({ sha: expect.any(String), commit: head, annotated: true });
    expect(state.releases).toHaveLength(1);
    const r = state.releases[0];
    expect(r).toMatchObject({
      tag_name: 'v1.0.0',
      prerelease: false,
      draft: false,
      make_latest: 'legacy',
      target_commitish: head,
    });
    expect(r.body).toContain('### Features\n\n- **api:** list orders (');
    expect(r.body).toMatch(/- \*\*api:\*\* list orders \([0-9a-f]{7}, #12\)/);
    expect(r.body).toContain('### Fixes');
    expect(r.body).toContain('First release: there is no earlier version to roll back to.');
    expect(outputs).toMatchObject({
      tag: 'v1.0.0',
      created: 'true',
      'release-id': String(r.id),
      'release-url': r.html_url,
    });
    expect(outputs.notes).toBe(r.body);
    expect(gh.requests.map((x) => x.operationId)).toEqual([
      'git/list-matching-refs',
      'git/get-ref',
      'git/create-tag',
      'git/create-ref',
      'repos/get-release-by-tag',
      'repos/list-releases',
      'repos/create-release',
    ]);
    expect(rt.summaries.join('\n')).toContain(`[v1.0.0](${r.html_url})`);
    expect(rt.summaries.join('\n')).toContain('### Features');
  });

  it('is idempotent: a re-run changes nothing and says created=false', async () => {
    repo.commit('feat: one');
    gh.state.repo().importGit(repo.dir);
    await release({ version: '0.2.0' });
    const before = writes().length;

    const { outputs } = await release({ version: '0.2.0' });

    expect(outputs.created).toBe('false');
    expect(writes()).toHaveLength(before);
    expect(gh.state.repo().releases).toHaveLength(1);
  });

  it('creates the missing release of an existing tag on the same commit', async () => {
    const head = repo.commit('feat: one');
    gh.state.repo().importGit(repo.dir);
    gh.state.repo().createAnnotatedTag('v1.0.0', head);

    const { outputs } = await release({ version: '1.0.0' });

    expect(outputs.created).toBe('true');
    expect(gh.count('git/create-tag')).toBe(0);
    expect(gh.state.repo().releases).toHaveLength(1);
  });

  it('fails with one line naming the tag and both commits when the tag is on another commit', async () => {
    const old = repo.commit('feat: one');
    const head = repo.commit('fix: two');
    gh.state.repo().importGit(repo.dir);
    gh.state.repo().createAnnotatedTag('v1.0.0', old);

    const err = await release({ version: '1.0.0' }).catch((e: Error) => e);

    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('UserError');
    expect((err as Error).message).toBe(
      `tag v1.0.0 already exists on commit ${old}, not on ${head}: a released tag is never moved; release a new version instead`,
    );
    expect(gh.state.repo().releases).toHaveLength(0);
  });

  it('handles a racing run that creates the tag and the release first', async () => {
    const head = repo.commit('feat: one');
    gh.state.repo().importGit(repo.dir);
    gh.before('git/create-ref', (r) => r.createAnnotatedTag('v1.0.0', head));
    gh.before('repos/create-release', (r) => r.addRelease('v1.0.0'));

    const { outputs, rt } = await release({ version: '1.0.0' });

    expect(outputs.created).toBe('false');
    expect(gh.state.repo().releases).toHaveLength(1);
    expect(outputs['release-id']).toBe(String(gh.state.repo().releases[0].id));
    expect(rt.text()).toContain('created by another run');
  });

  it('a racing run that tagged another commit is a clear failure', async () => {
    const old = repo.commit('feat: one');
    const head = repo.commit('feat: two');
    gh.state.repo().importGit(repo.dir);
    gh.before('git/create-ref', (r) => r.createAnnotatedTag('v1.0.0', old));

    await expect(release({ version: '1.0.0' })).rejects.toThrow(
      `tag v1.0.0 already exists on commit ${old}, not on ${head}`,
    );
  });

  it('retries a 502, a rate limit and a 429, and makes exactly one release', async () => {
    repo.commit('feat: one');
    gh.state.repo().importGit(repo.dir);
    gh.failNext('repos/create-release', 502, 1);
    gh.failNext('git/create-tag', 403, 1);
    gh.failNext('git/get-ref', 429, 1);

    const { outputs } = await release({ version: '1.0.0' });

    expect(outputs.created).toBe('true');
    expect(gh.count('repos/create-release')).toBe(2);
    expect(gh.state.repo().releases).toHaveLength(1);
    expect(gh.state.repo().tagObjects.size).toBe(1);
  });

  it('makes a prerelease of a prerelease version, never latest, with notes since the previous tag', async () => {
    repo.commit('feat: one');
    repo.tag('v1.0.0');
    repo.commit('feat: two');
    repo.tag('v1.1.0-rc.1');
    repo.commit('fix: three');
    gh.state.repo().importGit(repo.dir);

    const { outputs, rt } = await release({ version: '1.1.0-rc.2', 'make-latest': 'true' });

    const r = gh.state.repo().releases[0];
    expect(r).toMatchObject({ tag_name: 'v1.1.0-rc.2', prerelease: true, make_latest: 'false' });
    expect(outputs.notes).toContain('three');
    expect(outputs.notes).not.toContain('two');
    expect(outputs.notes).toContain('**Roll back to:** 1.1.0-rc.1 (`v1.1.0-rc.1`)');
    expect(rt.records.some((x) => x.level === 'warning' && /never marked latest/.test(x.message))).toBe(true);
  });

  it('releases a component with its own tag, commits, migrations, compare link and rollback line', async () => {
    const config = [
      'components:',
      '  schema:',
      '    kind: migrations',
      '    migrate: { dir: services/backend/migrations }',
      '  backend:',
      '    paths: [services/backend/**]',
      '    dependsOn: [schema]',
      '  frontend:',
      '    paths: [web/**]',
      '',
    ].join('\n');
    repo.commit('chore: init', {
      '.github/slipway.yml': config,
      'services/backend/migrations/001_init.sql': 'select 1;',
    });
    repo.commit('feat(backend): orders', { 'services/backend/app.ts': '1' });
    repo.tag('backend-v1.1.0');
    repo.commit('feat(web): dark mode', { 'web/app.ts': '1' });
    repo.commit('feat(backend): refunds (#40)', {
      'services/backend/app.ts': '2',
      'services/backend/migrations/002_refunds.sql': 'create table refunds();',
    });
    gh.state.repo().importGit(repo.dir);

    const { outputs } = await release({ version: '1.2.0', component: 'backend' });

    expect(outputs.tag).toBe('backend-v1.2.0');
    expect(gh.state.repo().tag('backend-v1.2.0')?.commit).toBe(repo.head());
    const r = gh.state.repo().releases[0];
    expect(r.name).toBe('backend 1.2.0');
    expect(r.body).toContain('refunds');
    expect(r.body).not.toContain('dark mode');
    expect(r.body).toContain('### Migrations\n\n- `services/backend/migrations/002_refunds.sql`');
    expect(r.body).not.toContain('001_init.sql');
    expect(r.body).toContain(
      '**Full changelog:** [backend-v1.1.0...backend-v1.2.0](https://github.com/acme/shop/compare/backend-v1.1.0...backend-v1.2.0)',
    );
    expect(r.body).toContain('**Roll back to:** 1.1.0 (`backend-v1.1.0`)');
  });

  it('prepends the notes to the changelog through the API, once', async () => {
    repo.commit('feat: one', {
      'CHANGELOG.md': '# Changelog\n\nAll notable changes.\n\n## v0.9.0 (2024-12-01)\n\n- old\n',
    });
    repo.tag('v0.9.0');
    repo.commit('fix: two');
    gh.state.repo().importGit(repo.dir, { files: ['CHANGELOG.md'] });
    const mainBefore = gh.state.repo().refs.get('refs/heads/main');

    await release({ version: '0.9.1', changelog: 'CHANGELOG.md' });

    const text = gh.state.repo().file('CHANGELOG.md')!;
    expect(text).toMatch(
      /^# Changelog\n\nAll notable changes\.\n\n## v0\.9\.1 \(\d{4}-\d{2}-\d{2}\)\n\n### Fixes\n\n- two /,
    );
    expect(text).toContain('## v0.9.0 (2024-12-01)\n\n- old\n');
    const mainAfter = gh.state.repo().refs.get('refs/heads/main')!;
    expect(mainAfter).not.toBe(mainBefore);
    expect(gh.state.repo().commits.get(mainAfter)?.message).toBe('docs(changelog): v0.9.1');

    await release({ version: '0.9.1', changelog: 'CHANGELOG.md' });
    expect(gh.count('repos/create-or-update-file-contents')).toBe(1);
  });

  it('dry-run prints the tag, the notes and the calls, and writes nothing', async () => {
    repo.commit('feat: one');
    gh.state.repo().importGit(repo.dir);

    const { outputs, rt } = await release({ version: '1.0.0', 'dry-run': true });

    expect(writes()).toEqual([]);
    expect(outputs).toMatchObject({ tag: 'v1.0.0', created: 'false', 'release-url': '' });
    expect(rt.text()).toContain('POST /repos/acme/shop/git/tags');
    expect(rt.text()).toContain('POST /repos/acme/shop/releases');
    expect(rt.text()).toContain('### Features');
  });

  it('dry-run names the changelog branch a real run uses and only the calls it would make', async () => {
    repo.commit('feat: one', { 'CHANGELOG.md': '# Changelog\n' });
    repo.tag('v0.9.0');
    const head = repo.commit('fix: two');
    repo.git('branch', '-m', 'trunk');
    gh.state.repo().importGit(repo.dir, { files: ['CHANGELOG.md'] });
    // Run from a tag (a tag push, or a dispatch on a tag): the changelog goes to the default branch.
    const onTag = { GITHUB_REF: 'refs/tags/v0.9.1' };
    const inputs = { version: '0.9.1', changelog: 'CHANGELOG.md' };

    const dry = await release({ ...inputs, 'dry-run': true }, onTag);
    expect(writes()).toEqual([]);
    const planned = dry.rt.text();
    expect(planned).toContain(
      "Dry run: the notes would be prepended to CHANGELOG.md on the branch trunk (the repository's default branch: GITHUB_REF refs/tags/v0.9.1 is not a branch).",
    );
    expect(planned).toContain(
      'GET /repos/acme/shop/git/ref/tags/v0.9.1 (is the tag there, and on which commit?) → not there',
    );
    expect(planned).toContain(`POST /repos/acme/shop/git/tags {"tag":"v0.9.1","object":"${head}","type":"commit"}`);
    expect(planned).toContain('POST /repos/acme/shop/releases {"tag_name":"v0.9.1"');
    expect(planned).toContain(
      'PUT /repos/acme/shop/contents/CHANGELOG.md {"branch":"trunk","message":"docs(changelog): v0.9.1"}',
    );

    // The real run does what the dry run said, on that branch.
    await release(inputs, onTag);
    expect(gh.state.repo().file('CHANGELOG.md', 'trunk')).toContain('## v0.9.1 (');
    expect(gh.count('repos/create-or-update-file-contents')).toBe(1);

    // Everything is there now: a dry run plans no write at all.
    const again = await release({ ...inputs, 'dry-run': true }, onTag);
    const calls = again.rt.text();
    expect(calls).toContain(`→ on ${head.slice(0, 7)} already: no tag to create`);
    expect(calls).toContain(': left as it is');
    expect(calls).toContain('→ has the v0.9.1 entry already: unchanged');
    expect(calls).not.toMatch(/^ {2}(POST|PUT|PATCH|DELETE) /m);

    // On a branch, the changelog goes to that branch; without a token nothing is looked up.
    const onBranch = await release(
      { ...inputs, version: '0.9.2', 'dry-run': true, token: '' },
      { GITHUB_REF: 'refs/heads/release/0.9' },
    );
    expect(onBranch.rt.text()).toContain(
      'on the branch release/0.9 (the branch released, from GITHUB_REF refs/heads/release/0.9)',
    );
    expect(onBranch.rt.text()).toContain('without a token nothing was looked up');
  });

  it('dry-run fails as a real run would on a tag that is on another commit', async () => {
    const old = repo.commit('feat: one');
    const head = repo.commit('fix: two');
    gh.state.repo().importGit(repo.dir);
    gh.state.repo().createAnnotatedTag('v1.0.0', old);

    await expect(release({ version: '1.0.0', 'dry-run': true })).rejects.toThrow(
      `tag v1.0.0 already exists on commit ${old}, not on ${head}`,
    );
    expect(writes()).toEqual([]);
  });

  it('needs a token outside a dry run, and says so naming the input', async () => {
    repo.commit('feat: one');
    await expect(release({ version: '1.0.0', token: '' })).rejects.toThrow(/^input "token": /);
  });

  it('a token GitHub refuses is one line naming the request and what to check, never the token', async () => {
    repo.commit('feat: one');
    gh.state.repo().importGit(repo.dir);
    const wrong = 'ghs_notTheRightToken0123456789abcdef';

    const err = await release({ version: '1.0.0', token: wrong }).catch((e: unknown) => e);

    expect(isUserError(err)).toBe(true);
    expect((err as Error).message).toBe(
      'GitHub API: GET /repos/acme/shop/git/matching-refs/tags/v failed with 401: Bad credentials; check the token input (expired, revoked, or not a token)',
    );
    expect(gh.state.repo().releases).toHaveLength(0);
  });

  it('a failure the retries cannot fix is one line too', async () => {
    repo.commit('feat: one');
    gh.state.repo().importGit(repo.dir);
    gh.failNext('repos/create-release', 502, 10);

    const err = await release({ version: '1.0.0' }).catch((e: unknown) => e);

    expect(isUserError(err)).toBe(true);
    expect((err as Error).message).toMatch(/^GitHub API: POST \/repos\/acme\/shop\/releases failed with 502: /);
    expect((err as Error).message).not.toContain(TOKEN);
  });

  it("in a shallow clone, names the commit that is missing: the previous tag's, not the target", async () => {
    repo.commit('feat: one');
    // v1.0.0 sits on a branch the clone never gets: its commit cannot be fetched by deepening main.
    repo.git('checkout', '-q', '-b', 'old');
    const gone = repo.commit('fix: on a side branch');
    repo.tag('v1.0.0');
    repo.git('checkout', '-q', 'main');
    repo.commit('feat: two');
    gh.state.repo().importGit(repo.dir);
    const source = repo;
    const clone = cloneRepo(source, ['--depth', '1', '--single-branch', '--branch', 'main', '--no-tags']);
    repo = clone;
    try {
      const err = await release({ version: '1.1.0' }).catch((e: unknown) => e);
      expect(isUserError(err)).toBe(true);
      const message = (err as Error).message;
      expect(message).not.toContain('\n');
      expect(message).toContain(gone.slice(0, 7));
      expect(message).toContain('v1.0.0');
      expect(message).not.toContain(clone.head().slice(0, 7));
    } finally {
      repo = source;
      clone.cleanup();
    }
  });

  it('rejects a version that is not semver, naming the input', async () => {
    repo.commit('feat: one');
    await expect(release({ version: 'banana' })).rejects.toThrow(/^input "version": expected a semantic version/);
  });
});

describe('notes', () => {
  it('picks the previous stable tag for a stable release, and any earlier one for a prerelease', () => {
    const tags = ['v1.0.0', 'v1.1.0-rc.1', 'v1.1.0-rc.2', 'v0.9.0', 'backend-v3.0.0', 'vbanana'];
    expect(previousTag(tags, 'v{version}', '1.1.0')).toEqual({ name: 'v1.0.0', version: '1.0.0' });
    expect(previousTag(tags, 'v{version}', '1.1.0-rc.3')).toEqual({ name: 'v1.1.0-rc.2', version: '1.1.0-rc.2' });
    expect(previousTag(tags, 'v{version}', '0.9.0')).toBeNull();
    expect(previousTag(tags, 'backend-v{version}', '3.0.1')).toEqual({ name: 'backend-v3.0.0', version: '3.0.0' });
  });

  it('groups breaking changes first and keeps the PR number', () => {
    const commits = [
      parseCommit('a'.repeat(40), 'perf: faster (#3)', ''),
      parseCommit('b'.repeat(40), 'feat!: new API', ''),
      parseCommit('c'.repeat(40), 'docs: readme', ''),
    ];
    const notes = composeNotes({ tag: 'v2.0.0', commits, migrations: [], previous: null, repoUrl: '' });
    expect(notes.indexOf('### Breaking changes')).toBeLessThan(notes.indexOf('### Performance'));
    expect(notes).toContain('- faster (aaaaaaa, #3)');
    expect(notes).toContain('### Other\n\n- readme (ccccccc)');
  });

  it("keeps a long history under GitHub's body limit, cutting commits and keeping migrations and the rollback line", () => {
    const commits = Array.from({ length: 4000 }, (_, i) =>
      parseCommit(
        i.toString(16).padStart(40, '0'),
        `${i % 3 ? 'fix' : 'feat'}: change number ${i} of a long history (#${i})`,
        '',
      ),
    );
    const notes = composeNotes({
      tag: 'v1.0.0',
      commits,
      migrations: ['db/001_init.sql'],
      previous: { name: 'v0.9.0', version: '0.9.0' },
      repoUrl: 'https://github.com/acme/shop',
    });
    expect(notes.length).toBeLessThanOrEqual(MAX_NOTES_CHARS);
    const shown = notes.split('\n').filter((l) => /^- (.*change number|.*left out)/.test(l));
    const more = /^- … and (\d+) more commits, left out: GitHub limits release notes to 125,000 characters$/m.exec(
      notes,
    );
    expect(more).not.toBeNull();
    expect(shown.length - 1 + Number(more![1])).toBe(4000);
    expect(notes).toContain('### Migrations\n\n- `db/001_init.sql`');
    expect(notes.endsWith('**Roll back to:** 0.9.0 (`v0.9.0`)')).toBe(true);
    const short = composeNotes({
      tag: 'v1',
      commits: commits.slice(0, 3),
      migrations: [],
      previous: null,
      repoUrl: '',
    });
    expect(short).not.toContain('left out');
  });

  it('prepends an entry under the title, or makes a new file', () => {
    expect(prependEntry('', '## v1\n')).toBe('# Changelog\n\n## v1\n');
    expect(prependEntry('## v0\n', '## v1\n')).toBe('## v1\n\n## v0\n');
    expect(prependEntry('# Log\n\n## v0\n', '## v1\n')).toBe('# Log\n\n## v1\n\n## v0\n');
  });
});
