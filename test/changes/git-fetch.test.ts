/** git fetch is a network call: a timeout per attempt, two retries with backoff, and a one-line cause. */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Git } from '../../src/core/git.js';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { startGitHttpRemote, type GitHttpRemote } from '../helpers/git-http.js';
import { cloneRepo, createRepo, type TestRepo } from '../helpers/git-repo.js';

const cleanups: (() => unknown)[] = [];
const saved = { ...process.env };
beforeEach(() => {
  process.env.SLIPWAY_GIT_FETCH_TIMEOUT_MS = '1500';
  process.env.SLIPWAY_RETRY_BASE_MS = '20';
});
afterEach(async () => {
  process.env = { ...saved };
  while (cleanups.length) await cleanups.pop()!();
});

/** A repository with history and a tag, its bare copy served over HTTP, and a clone of it. */
async function setup(cloneArgs: string[] = []): Promise<{ source: TestRepo; clone: TestRepo; remote: GitHttpRemote }> {
  const source = createRepo();
  cleanups.push(() => source.cleanup());
  for (let i = 0; i < 5; i++) source.commit(`c${i}`);
  const bare = path.join(mkdtempSync(path.join(tmpdir(), 'slipway-bare-')), 'repo.git');
  cleanups.push(() => rmSync(path.dirname(bare), { recursive: true, force: true }));
  const clone = cloneRepo(source, cloneArgs);
  cleanups.push(() => clone.cleanup());
  source.tag('v1.0.0');
  execFileSync('git', ['clone', '-q', '--bare', source.dir, bare]);
  const remote = await startGitHttpRemote(bare);
  cleanups.push(() => remote.stop());
  clone.git('remote', 'set-url', 'origin', remote.url);
  return { source, clone, remote };
}

const warnings = (rt: ReturnType<typeof createMemoryRuntime>) =>
  rt.records.filter((r) => r.level === 'warning').map((r) => r.message);

describe('git fetch', () => {
  it('retries a failed attempt and succeeds', async () => {
    const { clone, remote } = await setup();
    remote.failNext(503);
    const rt = createMemoryRuntime({ cwd: clone.dir });
    const git = new Git(clone.dir, rt.log);
    expect(await git.tags()).toEqual([]);
    await git.fetchTags();
    expect((await git.tags()).map((t) => t.name)).toEqual(['v1.0.0']);
    expect(rt.text()).toMatch(/git fetch from origin failed: .*503.*; retrying in \d+ ms \(attempt 2 of 3\)/);
    expect(warnings(rt)).toEqual([]);
  });

  it('gives up after three attempts with a one-line cause', async () => {
    const { clone, remote } = await setup();
    remote.failNext(500, 10);
    const rt = createMemoryRuntime({ cwd: clone.dir });
    const ok = await new Git(clone.dir, rt.log).fetchRefs(['+refs/heads/main:refs/remotes/origin/other']);
    expect(ok).toBe(false);
    const [warning, ...rest] = warnings(rt);
    expect(rest).toEqual([]);
    expect(warning).toMatch(
      /^Could not fetch \+refs\/heads\/main:refs\/remotes\/origin\/other: git fetch from origin failed: .*500.* \(3 attempts\)$/,
    );
    expect(warning).not.toContain('\n');
    // Each attempt asked the server (git's first request of a fetch is the refs probe).
    expect(remote.requests.filter((r) => r.endsWith('/info/refs'))).toHaveLength(3);
    await expect(new Git(clone.dir, rt.log).fetchTags()).rejects.toThrow(/^Could not fetch the tags from origin: /);
  });

  it('kills an attempt that hangs, and a deepen that cannot finish leaves the clone as it was', async () => {
    const { clone, remote } = await setup(['--depth=1']);
    remote.failNext('hang', 3);
    const rt = createMemoryRuntime({ cwd: clone.dir });
    const git = new Git(clone.dir, rt.log);
    const ok = await git.deepenUntil(async () => false, 'the first commit');
    expect(ok).toBe(false);
    expect(warnings(rt)).toEqual([
      'Could not deepen the shallow clone to find the first commit: git fetch from origin timed out after 2 s (3 attempts)',
    ]);
    expect(remote.requests).toHaveLength(3);
    expect(await git.isShallow()).toBe(true);
  });
});
