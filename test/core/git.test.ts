import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fetchFailure, Git, splitMessage, type Commit } from '../../src/core/git.js';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { cloneRepo, createRepo, type TestRepo } from '../helpers/git-repo.js';

const repos: TestRepo[] = [];
afterEach(() => {
  while (repos.length) repos.pop()!.cleanup();
});

function repo(): TestRepo {
  const r = createRepo();
  repos.push(r);
  return r;
}

async function log(r: TestRepo, range = ['HEAD']): Promise<Commit[]> {
  const out: Commit[] = [];
  await new Git(r.dir).logStream(range, (c) => void out.push(c));
  return out;
}

describe('git log parsing', () => {
  it('keeps a message that contains the field separator byte whole', async () => {
    const r = repo();
    r.commit('fix: base');
    r.commit('feat: a\x1fb\n\nbody \x1f with the separator\n\nBREAKING CHANGE: tokens rotate');
    const [c] = await log(r);
    expect(c.subject).toBe('feat: a\x1fb');
    expect(c.body).toBe('body \x1f with the separator\n\nBREAKING CHANGE: tokens rotate');
    expect(c.parents).toHaveLength(1);
  });

  it('splits subject and body as git does for %s and %b', async () => {
    const r = repo();
    const messages = [
      'feat: one line',
      'fix: a subject\nthat wraps  \nonto three lines\n\nthe body\n\nsecond paragraph',
      'chore: trailing blanks   \n\n\n\n  indented body line\nnext\n\n',
      'docs: tabs\t\n \t\nbody after a blank line of spaces',
    ];
    for (const m of messages) r.git('commit', '-q', '--allow-empty', '--cleanup=verbatim', '-m', m);
    const ours = (await log(r)).reverse();
    const shas = r.git('rev-list', '--reverse', 'HEAD').trim().split('\n');
    expect(ours.map((c) => c.sha)).toEqual(shas);
    for (const sha of shas) {
      const c = ours.find((o) => o.sha === sha)!;
      expect(c.subject).toBe(r.git('log', '-1', '--format=%s', sha).replace(/\n$/, ''));
      expect(c.body).toBe(r.git('log', '-1', '--format=%b', sha).trimEnd());
    }
    expect(ours[1].subject).toBe('fix: a subject that wraps onto three lines');
  });

  it('streams a long history and stops when asked', async () => {
    const r = repo();
    for (let i = 0; i < 60; i++) r.git('commit', '-q', '--allow-empty', '-m', `chore: ${i}\n\nbody ${i}`);
    const seen: string[] = [];
    await new Git(r.dir).logStream(['HEAD'], (c) => {
      seen.push(c.subject);
      return seen.length < 5 ? undefined : false;
    });
    expect(seen).toEqual(['chore: 59', 'chore: 58', 'chore: 57', 'chore: 56', 'chore: 55']);
    expect(await log(r)).toHaveLength(60);
  });
});

describe('splitMessage', () => {
  it('skips leading blank lines and keeps an empty body empty', () => {
    expect(splitMessage('\n\nfeat: x\n')).toEqual({ subject: 'feat: x', body: '' });
    expect(splitMessage('feat: x')).toEqual({ subject: 'feat: x', body: '' });
    expect(splitMessage('')).toEqual({ subject: '', body: '' });
  });
});

describe('object hashes of paths', () => {
  it('resolves root-level and nested paths, folders and files, odd names, and absent paths as rev-parse does', async () => {
    const r = repo();
    r.commit('feat: tree', {
      'README.md': 'hi\n',
      'libs/shared/index.ts': 'export {}\n',
      'packages/a b/x.ts': '1\n',
      'packages/c[1]/y.ts': '2\n',
      'packages/*/z.ts': '3\n',
      'services/api/main.go': 'package main\n',
    });
    const git = new Git(r.dir);
    const paths = [
      'README.md',
      'libs',
      'libs/shared',
      'libs/shared/index.ts',
      'packages/a b',
      'packages/c[1]',
      'packages/*',
      'services/api',
      'services/none',
      'missing',
      'libs/shared/none/deeper',
    ];
    const got = await git.objectHashes('HEAD', paths);
    for (const p of paths) expect([p, got.get(p)]).toEqual([p, await git.objectHash('HEAD', p)]);
    expect(got.get('packages/*')).not.toBeNull();
    expect(got.get('missing')).toBeNull();
  });
});

describe('a fetch that cannot succeed', () => {
  it('says why in one line, is not retried, and names fetch-depth: 0 as the fix', async () => {
    const source = repo();
    source.commit('fix: one');
    source.commit('fix: two');
    const clone = cloneRepo(source, ['--depth=1']);
    repos.push(clone);
    // The origin of the clone is a folder that no longer exists.
    source.cleanup();
    const rt = createMemoryRuntime({ cwd: clone.dir });
    const git = new Git(clone.dir, rt.log);
    await expect(git.fetchTags()).rejects.toThrow(
      new Error(
        `Could not fetch the tags from origin: git fetch from origin failed: '${source.dir}' does not appear to be a git repository (not retried); check out with \`fetch-depth: 0\` (actions/checkout) so that nothing has to be fetched`,
      ),
    );
    expect(rt.text()).not.toContain('retrying');
    expect(rt.text()).not.toContain('the repository exists');
  });

  it.each([
    [
      "fatal: '/gone' does not appear to be a git repository\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n",
      "'/gone' does not appear to be a git repository",
      true,
    ],
    [
      "remote: Repository not found.\nfatal: repository 'https://github.com/acme/gone/' not found\n",
      "repository 'https://github.com/acme/gone/' not found",
      true,
    ],
    [
      "remote: Invalid username or password.\nfatal: Authentication failed for 'https://github.com/acme/app/'\n",
      "Authentication failed for 'https://github.com/acme/app/'",
      true,
    ],
    [
      'git@github.com: Permission denied (publickey).\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n',
      'git@github.com: Permission denied (publickey).',
      true,
    ],
    [
      'ssh: connect to host github.com port 22: Connection timed out\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n',
      'ssh: connect to host github.com port 22: Connection timed out',
      false,
    ],
    [
      "fatal: unable to access 'https://github.com/acme/app/': The requested URL returned error: 503\n",
      "unable to access 'https://github.com/acme/app/': The requested URL returned error: 503",
      false,
    ],
    [
      "fatal: unable to access 'https://github.com/acme/app/': Recv failure: Connection reset by peer\n",
      "unable to access 'https://github.com/acme/app/': Recv failure: Connection reset by peer",
      false,
    ],
    ['error: RPC failed; curl 18 transfer closed\nfatal: early EOF\nfatal: index-pack failed\n', 'early EOF', false],
    ['something odd\n\n', 'something odd', false],
  ])('reads %j as %j (permanent: %s)', (stderr, cause, permanent) => {
    expect(fetchFailure(stderr)).toEqual({ cause, permanent });
  });
});

describe('a folder that is not a checkout', () => {
  it('is named in one line with what was expected, whatever git command came first', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'slipway-not-a-repo-'));
    try {
      const git = new Git(dir);
      for (const call of [() => git.head(), () => git.isShallow(), () => git.tagNames()])
        await expect(call()).rejects.toThrow(
          `${dir} is not in a git repository (expected a checkout of the repository: actions/checkout with fetch-depth: 0)`,
        );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
