import { afterEach, describe, expect, it } from '@jest/globals';
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import valid from 'semver/functions/valid.js';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { inputVariable, parseInputs } from '../../src/core/inputs.js';
import { versionBump } from '../../src/versioning/version-bump.js';
import { cloneRepo, createRepo, type TestRepo } from '../helpers/git-repo.js';
import { errorLines, runBundledAction } from '../helpers/run-action.js';

const repos: TestRepo[] = [];
afterEach(() => {
  while (repos.length) repos.pop()!.cleanup();
});

function repo(): TestRepo {
  const r = createRepo();
  repos.push(r);
  return r;
}

/** Run version-bump in-process on `r` with `inputs`; returns its outputs and log. */
async function bump(r: TestRepo, inputs: Record<string, string> = {}, env: Record<string, string> = {}) {
  const fullEnv: NodeJS.ProcessEnv = { ...env };
  for (const [k, v] of Object.entries(inputs)) fullEnv[inputVariable(k)] = v;
  const rt = createMemoryRuntime({ env: fullEnv, cwd: r.dir });
  await versionBump.run(parseInputs(versionBump.inputs, fullEnv, rt), rt);
  const result: Record<string, string> = { ...rt.outputs, log: rt.text(), summary: rt.summaries.join('\n') };
  return result;
}

describe('version-bump on main (stable channel)', () => {
  it('releases the initial version when there is no tag yet', async () => {
    const r = repo();
    r.commit('chore: scaffold');
    const out = await bump(r, { branch: 'main' });
    expect(out.version).toBe('0.1.0');
    expect(out.release).toBe('true');
    expect(out.tag).toBe('v0.1.0');
    expect(out['previous-version']).toBe('');
  });

  it.each([
    ['feat: add search', '1.3.0', 'minor'],
    ['fix: crash on empty cart', '1.2.4', 'patch'],
    ['perf: faster listing', '1.2.4', 'patch'],
    ['feat!: drop v1 endpoints', '2.0.0', 'major'],
    ['refactor(api)!: new auth', '2.0.0', 'major'],
    ['feat: new auth\n\nBREAKING CHANGE: tokens are rotated', '2.0.0', 'major'],
    ['fix: x\n\nBREAKING-CHANGE: y', '2.0.0', 'major'],
    ['feat: x\n\nBREAKING CHANGES: y', '2.0.0', 'major'],
    ['feat: a\x1fb\n\nBREAKING CHANGE: y', '2.0.0', 'major'],
    ['revert: feat: something old\n\nThis reverts commit 1234567.', '1.2.4', 'patch'],
  ])('%j after 1.2.3 gives %s', async (message, version, kind) => {
    const r = repo();
    r.commit('feat: base');
    r.tag('v1.2.3');
    r.commit('docs: readme');
    r.commit(message);
    const out = await bump(r, { branch: 'main' });
    expect(out.version).toBe(version);
    expect(out.bump).toBe(kind);
    expect(out.release).toBe('true');
    expect(out['previous-tag']).toBe('v1.2.3');
    expect(out.tag).toBe(`v${version}`);
  });

  it('releases nothing for chores and keeps the current version', async () => {
    const r = repo();
    r.commit('feat: base');
    r.tag('v1.2.3');
    r.commit('chore: deps');
    r.commit('docs: typo');
    const out = await bump(r, { branch: 'main' });
    expect(out.release).toBe('false');
    expect(out.version).toBe('1.2.3');
    expect(out.bump).toBe('none');
  });

  it('treats a breaking change below 1.0.0 as a minor bump', async () => {
    const r = repo();
    r.commit('feat: base');
    r.tag('v0.4.1');
    r.commit('feat!: rename everything');
    const out = await bump(r, { branch: 'main' });
    expect(out.version).toBe('0.5.0');
    expect(out.bump).toBe('minor');
  });

  it('cancels a revert and the commit it reverts when both are in the range', async () => {
    const r = repo();
    r.commit('fix: base');
    r.tag('v1.0.0');
    r.commit('fix: small');
    const feat = r.commit('feat: risky');
    r.commit(`Revert "feat: risky"\n\nThis reverts commit ${feat}.`);
    const out = await bump(r, { branch: 'main' });
    expect(out.version).toBe('1.0.1');
    expect(out.bump).toBe('patch');
    expect(out.notes).not.toContain('risky');
  });

  it('counts a revert of a released commit as a patch', async () => {
    const r = repo();
    const feat = r.commit('feat: shipped');
    r.tag('v1.0.0');
    r.commit(`Revert "feat: shipped"\n\nThis reverts commit ${feat}.`);
    const out = await bump(r, { branch: 'main' });
    expect(out.version).toBe('1.0.1');
  });

  it('reads commits of a merged branch and a squash-merged pull request title', async () => {
    const r = repo();
    r.commit('fix: base');
    r.tag('v1.0.0');
    r.git('checkout', '-q', '-b', 'feature/x');
    r.commit('feat: from a merged branch');
    r.git('checkout', '-q', 'main');
    r.commit('docs: meanwhile');
    r.git('merge', '-q', '--no-ff', '-m', 'Merge pull request #7 from acme/feature/x', 'feature/x');
    let out = await bump(r, { branch: 'main' });
    expect(out.version).toBe('1.1.0');
    expect(out.notes).toContain('from a merged branch');
    expect(out.notes).not.toContain('Merge pull request');

    r.tag('v1.1.0');
    r.git('checkout', '-q', '-b', 'feature/y');
    r.commit('wip');
    r.commit('more wip');
    r.git('checkout', '-q', 'main');
    r.git('merge', '-q', '--squash', 'feature/y');
    r.git('commit', '-q', '-m', 'feat(cart)!: one-click checkout (#42)');
    out = await bump(r, { branch: 'main' });
    expect(out.version).toBe('2.0.0');
    expect(out.notes).toMatch(/### Breaking changes\n\n- \*\*cart:\*\* one-click checkout \([0-9a-f]{7}, #42\)/);
  });

  it('ignores stray and malformed tags', async () => {
    const r = repo();
    r.commit('feat: base');
    r.tag('v1.0.0');
    r.commit('fix: a');
    r.tag('v1.2');
    r.tag('vnext');
    r.tag('v9.9.9.9');
    r.tag('release-2024', 'HEAD', false);
    r.commit('fix: b');
    const out = await bump(r, { branch: 'main' });
    expect(out['previous-tag']).toBe('v1.0.0');
    expect(out.version).toBe('1.0.1');
  });

  it('lets a manual bump override the commits', async () => {
    const r = repo();
    r.commit('feat: base');
    r.tag('v1.0.0');
    r.commit('chore: nothing');
    expect((await bump(r, { branch: 'main', bump: 'major' })).version).toBe('2.0.0');
    expect((await bump(r, { branch: 'main', bump: 'none' })).release).toBe('false');
    r.commit('feat: x');
    const none = await bump(r, { branch: 'main', bump: 'none' });
    expect(none.release).toBe('false');
    expect(none.version).toBe('1.0.0');
  });

  it('takes the last stable tag reachable from HEAD, not one on another branch', async () => {
    const r = repo();
    r.commit('feat: base');
    r.tag('v1.0.0');
    r.git('checkout', '-q', '-b', 'release/2.0');
    r.commit('feat: elsewhere');
    r.tag('v2.0.0');
    r.git('checkout', '-q', 'main');
    r.commit('fix: here');
    const out = await bump(r, { branch: 'main' });
    expect(out['previous-version']).toBe('1.0.0');
    expect(out.version).toBe('1.0.1');
  });
});

describe('the first release (no tag yet)', () => {
  /** The step from no release at all (0.0.0) to `version`: what a first release's bump describes. */
  const stepFromNothing = (version: string) => {
    const [major, minor] = version.split(/[-+]/)[0].split('.').map(Number);
    return major > 0 ? 'major' : minor > 0 ? 'minor' : 'patch';
  };

  it.each([
    ['main', 'chore: scaffold', {}],
    ['main', 'feat: first feature', {}],
    ['main', 'fix: first fix', { 'initial-version': '1.0.0' }],
    ['main', 'feat!: breaking from the start', { 'initial-version': '0.0.1' }],
    ['main', 'chore: scaffold', { bump: 'major' }],
    ['main', 'feat: first', { bump: 'patch', 'initial-version': '2.0.0' }],
    ['hotfix/urgent', 'chore: scaffold', {}],
    ['release/1.4', 'chore: scaffold', {}],
    ['release/next', 'fix: first fix', { 'initial-version': '2.0.0' }],
    ['release/next', 'feat: first feature', { 'initial-version': '0.0.3' }],
  ])('on %s after %j (%j): bump is the step to the version released', async (branch, message, inputs) => {
    const r = repo();
    r.commit(message);
    const out = await bump(r, { branch, ...inputs });
    expect(out.release).toBe('true');
    expect(out['previous-version']).toBe('');
    expect(out.bump).toBe(stepFromNothing(out['candidate-of'] || out.version));
    // The summary shows the same bump as the output.
    expect(out.summary).toContain(`| ${out.bump} |`);
  });

  it('says none when nothing is released, and a promotion of a first candidate says the same step as it', async () => {
    const r = repo();
    r.commit('feat: first');
    const none = await bump(r, { branch: 'main', bump: 'none' });
    expect(none).toMatchObject({ release: 'false', bump: 'none' });
    r.git('checkout', '-q', '-b', 'release/1.4');
    const candidate = await bump(r, { branch: 'release/1.4' });
    r.tag(candidate.tag);
    const promoted = await bump(r, { branch: 'release/1.4', promote: 'true' });
    expect(promoted).toMatchObject({ release: 'true', version: candidate['candidate-of'], bump: candidate.bump });
    expect(promoted.bump).toBe(stepFromNothing(promoted.version));
  });
});

describe('version-bump inputs and the master branch', () => {
  it('versions the series of the tag-prefix input, ignoring tags of other prefixes', async () => {
    const r = repo();
    r.commit('feat: base');
    r.tag('release-1.0.0');
    r.tag('v9.0.0');
    r.commit('fix: typo in the api');
    const out = await bump(r, { branch: 'main', 'tag-prefix': 'release-' });
    expect(out['previous-tag']).toBe('release-1.0.0');
    expect(out.version).toBe('1.0.1');
    expect(out.tag).toBe('release-1.0.1');
    // Without the input the repository's default series (v) applies.
    expect((await bump(r, { branch: 'main' })).version).toBe('9.0.1');
  });

  it('starts from the initial-version input when there is no tag, with or without a leading v', async () => {
    const r = repo();
    r.commit('chore: scaffold');
    let out = await bump(r, { branch: 'main', 'initial-version': '1.0.0' });
    expect(out.version).toBe('1.0.0');
    expect(out.tag).toBe('v1.0.0');
    expect(out.release).toBe('true');
    out = await bump(r, { branch: 'main', 'initial-version': 'v2.0.0-rc.1' });
    expect(out.version).toBe('2.0.0-rc.1');
    expect(out.prerelease).toBe('true');
    // A tag exists: the input no longer matters.
    r.tag('v1.0.0');
    r.commit('feat: next');
    expect((await bump(r, { branch: 'main', 'initial-version': '5.0.0' })).version).toBe('1.1.0');
  });

  it('rejects an initial-version that is not a version, naming the input', async () => {
    const r = repo();
    r.commit('chore: scaffold');
    await expect(bump(r, { branch: 'main', 'initial-version': '1.0' })).rejects.toThrow(
      'input "initial-version": expected a semantic version such as 1.2.3 or 1.2.3-rc.1, got "1.0"',
    );
  });

  it('treats master like main, reading the branch from the checkout', async () => {
    const r = createRepo({ branch: 'master' });
    repos.push(r);
    r.commit('feat: base');
    r.tag('v1.0.0');
    r.commit('feat: search');
    const out = await bump(r);
    expect(out.channel).toBe('stable');
    expect(out.release).toBe('true');
    expect(out.version).toBe('1.1.0');
    expect(out.log).toContain('Branch master: rule "master" → channel stable');
  });
});

describe('version-bump on other branches', () => {
  it('makes release candidates of X.Y.Z on release/X.Y.Z', async () => {
    const r = repo();
    r.commit('feat: base');
    r.tag('v1.4.1');
    r.git('checkout', '-q', '-b', 'release/1.4.2');
    r.commit('fix: for the patch release');
    let out = await bump(r, { branch: 'release/1.4.2' });
    expect(out.version).toBe('1.4.2-rc.1');
    expect(out.tag).toBe('v1.4.2-rc.1');
    expect(out['previous-version']).toBe('1.4.1');
    r.tag('v1.4.2-rc.1');
    r.commit('fix: rc feedback');
    out = await bump(r, { branch: 'release/1.4.2' });
    expect(out.version).toBe('1.4.2-rc.2');
    // The candidates of another patch version do not count.
    r.tag('v1.4.3-rc.5', 'HEAD~1');
    expect((await bump(r, { branch: 'release/1.4.2' })).version).toBe('1.4.2-rc.2');
  });

  it('makes release candidates on release/X.Y, numbered after the existing ones', async () => {
    const r = repo();
    r.commit('feat: base');
    r.tag('v1.3.2');
    r.git('checkout', '-q', '-b', 'release/1.4');
    r.commit('feat: for 1.4');
    let out = await bump(r, {}, { GITHUB_REF: 'refs/heads/release/1.4' });
    expect(out.version).toBe('1.4.0-rc.1');
    expect(out.channel).toBe('rc');
    expect(out.prerelease).toBe('true');
    expect(out.release).toBe('true');
    r.tag('v1.4.0-rc.1');
    out = await bump(r, { branch: 'release/1.4' });
    expect(out.release).toBe('false');
    expect(out.version).toBe('1.4.0-rc.1');
    r.commit('fix: rc feedback');
    r.tag('v1.4.0-rc.7', 'HEAD~1');
    out = await bump(r, { branch: 'release/1.4' });
    expect(out.version).toBe('1.4.0-rc.8');
    expect(out.tag).toBe('v1.4.0-rc.8');
  });

  it('uses the computed next version on a release branch without a version, and the prerelease input', async () => {
    const r = repo();
    r.commit('feat: base');
    r.tag('v2.1.0');
    r.git('checkout', '-q', '-b', 'release/next');
    r.commit('feat: big');
    expect((await bump(r, { branch: 'release/next' })).version).toBe('2.2.0-rc.1');
    expect((await bump(r, { branch: 'release/next', prerelease: 'beta' })).version).toBe('2.2.0-beta.1');
  });

  it('refuses release candidates for a version already released', async () => {
    const r = repo();
    r.commit('feat: base');
    r.tag('v1.4.0');
    r.git('checkout', '-q', '-b', 'release/1.4');
    r.commit('fix: late');
    const out = await bump(r, { branch: 'release/1.4' });
    expect(out.release).toBe('false');
    expect(out.log).toContain('1.4.0 is already released');
  });

  it('never outputs a version a release or hotfix branch tagged outside main’s history: it steps past the highest', async () => {
    const r = repo();
    r.commit('feat: init');
    r.tag('v1.1.0');
    r.git('checkout', '-q', '-b', 'release/1.2');
    r.commit('feat: big thing');
    r.tag('v1.2.0'); // promoted, not merged back
    r.git('checkout', '-q', '-b', 'hotfix/x', 'v1.1.0');
    r.commit('fix: outage');
    r.tag('v1.1.1'); // an unmerged hotfix
    r.git('checkout', '-q', 'main');
    r.commit('feat: next on main');
    const minor = await bump(r, { branch: 'main' });
    expect(minor).toMatchObject({ version: '1.3.0', tag: 'v1.3.0', release: 'true', 'previous-version': '1.1.0' });
    expect(minor.log).toContain('v1.2.0 exists outside this history');
    r.git('checkout', '-q', '-b', 'only-fix', 'v1.1.0');
    r.commit('fix: small');
    const patch = await bump(r, { branch: 'main' });
    expect(patch).toMatchObject({ version: '1.2.1', tag: 'v1.2.1' });
  });

  it('makes a patch on hotfix/* even for a chore', async () => {
    const r = repo();
    r.commit('feat: base');
    r.tag('v3.2.1');
    r.git('checkout', '-q', '-b', 'hotfix/login');
    r.commit('chore: config for the outage');
    const out = await bump(r, { branch: 'hotfix/login' });
    expect(out.version).toBe('3.2.2');
    expect(out.bump).toBe('patch');
    expect(out.channel).toBe('stable');
    expect(out.release).toBe('true');
  });

  it('gives a feature branch a preview version and no release', async () => {
    const r = repo();
    r.commit('feat: base');
    r.tag('v1.2.0');
    r.git('checkout', '-q', '-b', 'feature/Login_v2');
    const sha = r.commit('feat: login');
    const out = await bump(r, {}, { GITHUB_HEAD_REF: 'feature/Login_v2', GITHUB_REF: 'refs/pull/3/merge' });
    expect(out.release).toBe('false');
    expect(out.channel).toBe('none');
    expect(out.version).toBe(`1.2.0-feature-login-v2+${sha.slice(0, 7)}`);
    expect(out.tag).toBe('');
  });

  it('follows versioning.branches from the policy file', async () => {
    const r = repo();
    r.commit('feat: base', {
      '.github/slipway.yml':
        'versioning:\n  tag: "app@{version}"\n  branches:\n    - { match: trunk, channel: stable }\n    - { match: "next", channel: beta }\n    - { match: "*", channel: none }\n',
    });
    r.tag('app@1.0.0');
    r.commit('feat: more');
    expect((await bump(r, { branch: 'trunk' })).tag).toBe('app@1.1.0');
    expect((await bump(r, { branch: 'next' })).version).toBe('1.1.0-beta.1');
    expect((await bump(r, { branch: 'main' })).release).toBe('false');
  });
});

describe('version-bump checks what ends up in a version or a tag', () => {
  const TAG_PREFIX =
    'expected a tag prefix that makes a valid git tag name with the version after it, without {version}, e.g. "v" or "api/v" (no spaces, "..", ":", "~", "^", "?", "*", "[", "\\")';
  it.each([
    ['v{version}', 'v{version}'],
    ['my tag ', 'my tag'],
    ['rel..x/', 'rel..x/'],
    ['-v', '-v'],
    ['v:', 'v:'],
  ])('refuses the tag-prefix %j in one line naming the input', async (prefix, shown) => {
    const r = repo();
    r.commit('feat: base');
    await expect(bump(r, { branch: 'main', 'tag-prefix': prefix })).rejects.toThrow(
      new Error(`input "tag-prefix": ${TAG_PREFIX}, got "${shown}"`),
    );
  });

  const PRERELEASE =
    'expected a prerelease identifier: dot-separated parts of letters, digits and -, no part empty and no all-digit part with a leading zero, e.g. beta or beta.2';
  it.each(['beta 1', '01', 'beta.01', 'beta..1', '.beta', 'beta_1', 'beta+1'])(
    'refuses the prerelease %j in one line naming the input',
    async (id) => {
      const r = repo();
      r.commit('feat: base');
      r.git('checkout', '-q', '-b', 'release/1.5');
      await expect(bump(r, { branch: 'release/1.5', prerelease: id })).rejects.toThrow(
        new Error(`input "prerelease": ${PRERELEASE}, got "${id}"`),
      );
    },
  );

  it('numbers candidates of a dotted or numeric prerelease identifier after the existing ones', async () => {
    const r = repo();
    r.commit('feat: base');
    r.tag('v1.4.0');
    r.git('checkout', '-q', '-b', 'release/1.5');
    r.commit('feat: for 1.5');
    for (const id of ['beta.2', '0', '7']) {
      const first = await bump(r, { branch: 'release/1.5', prerelease: id });
      expect(first.version).toBe(`1.5.0-${id}.1`);
      expect(valid(first.version)).toBe(first.version);
      r.tag(first.tag, 'HEAD~1');
      expect((await bump(r, { branch: 'release/1.5', prerelease: id })).version).toBe(`1.5.0-${id}.2`);
    }
    // beta.2's candidates are not beta's.
    expect((await bump(r, { branch: 'release/1.5', prerelease: 'beta' })).version).toBe('1.5.0-beta.1');
  });

  it.each([
    ['main', 'main'],
    ['hotfix/login', 'hotfix/*'],
  ])('refuses a prerelease on the stable branch %s, naming the branch and its rule', async (branch, rule) => {
    const r = repo();
    r.commit('feat: base');
    r.tag('v1.0.0');
    r.commit('feat: more');
    await expect(bump(r, { branch, prerelease: 'beta' })).rejects.toThrow(
      new Error(
        `input "prerelease": applies to release branches and feature-branch previews only, but branch ${branch} follows rule "${rule}" (channel stable), which releases stable versions; leave it empty there, got "beta"`,
      ),
    );
  });

  it('refuses an initial version with a leading zero, from the input or the policy file (at its line)', async () => {
    const r = repo();
    r.commit('feat: base');
    r.git('checkout', '-q', '-b', 'feature/x');
    await expect(bump(r, { branch: 'feature/x', 'initial-version': '01.0.0' })).rejects.toThrow(
      new Error(
        'input "initial-version": expected a semantic version such as 0.1.0 or 1.0.0-rc.1, without leading zeros, got "01.0.0"',
      ),
    );
    r.commit('chore: policy', { '.github/slipway.yml': 'versioning:\n  initial: 1.0.0-01\n' });
    await expect(bump(r, { branch: 'feature/x' })).rejects.toThrow(
      new Error(
        '.github/slipway.yml:2:3: versioning.initial: expected a semantic version like 0.1.0 or 1.0.0-rc.1 (no leading zeros), got "1.0.0-01"',
      ),
    );
  });

  it("keeps an initial version's build metadata out of a preview", async () => {
    const r = repo();
    r.git('checkout', '-q', '-b', 'feature/x');
    const sha = r.commit('feat: base');
    const out = await bump(r, { branch: 'feature/x', 'initial-version': '1.0.0+build.5' });
    expect(out.version).toBe(`1.0.0-feature-x+${sha.slice(0, 7)}`);
  });

  it('gives a branch named 007 a preview that is valid semver', async () => {
    const r = repo();
    r.commit('feat: base');
    r.git('checkout', '-q', '-b', '007');
    const sha = r.commit('feat: bond');
    const out = await bump(r, { branch: '007' });
    expect(out.version).toBe(`0.1.0-branch-007+${sha.slice(0, 7)}`);
    expect(valid(out.version)).not.toBeNull();
    // A numeric prerelease input is an identifier of its own: valid too.
    expect(valid((await bump(r, { branch: '007', prerelease: '7.x' })).version)).not.toBeNull();
  });
});

describe('version-bump job summary', () => {
  it('names the commits that decided the bump in the "decided by" column', async () => {
    const r = repo();
    r.commit('feat: base');
    r.tag('v1.0.0');
    r.commit('fix: small');
    const b = r.commit('feat: export as csv');
    r.commit('docs: readme');
    const c = r.commit('feat(api): filters');
    const out = await bump(r, { branch: 'main' });
    expect(out.summary).toContain('| component | version | bump | decided by |');
    // The fix and the docs did not decide a minor bump: only the two features, newest first.
    expect(out.summary).toContain(
      `| (repository) | 1.0.0 → 1.1.0 | minor | \`${c.slice(0, 7)}\` feat(api): filters<br>\`${b.slice(0, 7)}\` feat: export as csv |`,
    );
  });

  it('shows three deciding commits and counts the rest, and the reason when nothing decided', async () => {
    const r = repo();
    r.commit('feat: base');
    r.tag('v2.0.0');
    const shas = [1, 2, 3, 4, 5].map((i) => r.commit(`fix: bug ${i}`));
    let out = await bump(r, { branch: 'main' });
    const row = out.summary.split('\n').find((l) => l.startsWith('| (repository) |'))!;
    expect(row).toBe(
      `| (repository) | 2.0.0 → 2.0.1 | patch | \`${shas[4].slice(0, 7)}\` fix: bug 5<br>\`${shas[3].slice(0, 7)}\` fix: bug 4<br>\`${shas[2].slice(0, 7)}\` fix: bug 3<br>… 2 more |`,
    );
    r.tag('v2.0.1');
    r.commit('chore: deps');
    out = await bump(r, { branch: 'main', 'dry-run': 'true' });
    expect(out.summary).toContain('## Version (dry run)');
    expect(out.summary).toContain(
      '| (repository) | 2.0.1 → 2.0.1 | none (no release) | 1 commit(s) since v2.0.1, none releasable |',
    );
  });

  it('gives each component its own deciding commits', async () => {
    const r = repo();
    r.commit('chore: init', {
      '.github/slipway.yml': 'components:\n  api: { paths: [api/**] }\n  web: { paths: [web/**] }\n',
      'api/a.ts': '1',
      'web/a.ts': '1',
    });
    r.tag('v1.0.0');
    r.tag('api-v1.0.0');
    r.tag('web-v1.0.0');
    const api = r.commit('feat: api pagination', { 'api/page.ts': 'x' });
    const web = r.commit('fix: web layout', { 'web/layout.ts': 'x' });
    const out = await bump(r, { branch: 'main' });
    expect(out.summary).toContain(`| api | 1.0.0 → 1.1.0 | minor | \`${api.slice(0, 7)}\` feat: api pagination |`);
    expect(out.summary).toContain(`| web | 1.0.0 → 1.0.1 | patch | \`${web.slice(0, 7)}\` fix: web layout |`);
    expect(out.summary).toContain(
      `| (repository) | 1.0.0 → 1.1.0 | minor | \`${api.slice(0, 7)}\` feat: api pagination |`,
    );
  });
});

describe('version-bump in a monorepo', () => {
  const config = [
    'components:',
    '  shared: { paths: [libs/shared/**] }',
    '  backend: { paths: [services/backend/**], tag: "backend-v{version}", dependsOn: [shared] }',
    // deployAfter: deployed after the backend, but versioned by its own commits alone.
    '  frontend: { paths: [web/**], deployAfter: [backend] }',
    '  postgres: { kind: data }',
    '',
  ].join('\n');

  it('versions each component from the commits touching its paths, with its own tags', async () => {
    const r = repo();
    r.commit('chore: init', {
      '.github/slipway.yml': config,
      'services/backend/a.ts': '1',
      'web/index.html': '1',
      'libs/shared/x.ts': '1',
    });
    r.tag('backend-v1.0.0');
    r.tag('frontend-v2.0.0');
    r.tag('backend-v1.0.0x');
    r.commit('feat(api): orders endpoint', { 'services/backend/orders.ts': 'x' });
    r.commit('fix(web): button', { 'web/button.ts': 'x' });
    r.commit('feat: docs site', { 'docs/index.md': 'x' });
    const out = await bump(r, { branch: 'main' });
    const comps = JSON.parse(out.components);
    expect(comps.backend).toEqual({
      version: '1.1.0',
      release: true,
      bump: 'minor',
      'previous-version': '1.0.0',
      tag: 'backend-v1.1.0',
    });
    expect(comps.frontend).toEqual({
      version: '2.0.1',
      release: true,
      bump: 'patch',
      'previous-version': '2.0.0',
      tag: 'frontend-v2.0.1',
    });
    expect(comps.shared.release).toBe(true);
    expect(comps.shared.version).toBe('0.1.0');
    expect(comps.postgres).toBeUndefined();
    expect(out.summary).toContain('| backend | 1.0.0 → 1.1.0 | minor |');

    const one = await bump(r, { branch: 'main', component: 'frontend' });
    expect(one.version).toBe('2.0.1');
    expect(one.tag).toBe('frontend-v2.0.1');
    expect(one.notes).toContain('button');
    expect(one.notes).not.toContain('orders endpoint');
  });

  it('fails with one line for an unknown component', async () => {
    const r = repo();
    r.commit('chore: init', { '.github/slipway.yml': config });
    await expect(bump(r, { branch: 'main', component: 'backnd' })).rejects.toThrow(
      /component: unknown component "backnd" in \.github\/slipway\.yml \(expected one of: shared, backend, frontend, postgres\)/,
    );
  });
});

describe('version-bump in a shallow clone', () => {
  it('fetches tags and history back to the last release before answering', async () => {
    const origin = repo();
    origin.commit('feat: base');
    origin.tag('v1.0.0');
    for (let i = 0; i < 120; i++) origin.commit(i === 60 ? 'feat: middle' : `chore: ${i}`);
    origin.commit('fix: last');
    const clone = cloneRepo(origin, ['--depth', '1', '--no-tags']);
    repos.push(clone);
    expect(clone.git('rev-parse', '--is-shallow-repository').trim()).toBe('true');
    const out = await bump(clone, { branch: 'main' });
    expect(out.version).toBe('1.1.0');
    expect(out['previous-tag']).toBe('v1.0.0');
    expect(out.log).toMatch(/Fetched tags from origin: 1 new/);
    expect(out.log).toMatch(/Shallow clone: fetched \d+ more commits of history/);
  });
  it("fetches back to each component's last tag, even one older than the repository's", async () => {
    const origin = repo();
    origin.commit('chore: init', {
      '.github/slipway.yml': 'components:\n  backend: { paths: [services/backend/**] }\n',
      'services/backend/a.ts': '1',
    });
    origin.tag('backend-v1.0.0');
    for (let i = 0; i < 80; i++) origin.commit(`chore: ${i}`);
    origin.tag('v3.0.0');
    for (let i = 0; i < 5; i++) origin.commit(`docs: ${i}`);
    origin.commit('fix(api): null order', { 'services/backend/a.ts': '2' });
    const clone = cloneRepo(origin, ['--depth', '1', '--no-tags']);
    repos.push(clone);
    const out = await bump(clone, { branch: 'main' });
    expect(out.version).toBe('3.0.1');
    const comps = JSON.parse(out.components);
    expect(comps.backend).toEqual({
      version: '1.0.1',
      release: true,
      bump: 'patch',
      'previous-version': '1.0.0',
      tag: 'backend-v1.0.1',
    });
    expect(out.log).toMatch(/backend-v\{version\}/);
  });
});

describe('version-bump as the runner runs it', () => {
  it('writes its outputs to GITHUB_OUTPUT and a summary', async () => {
    const r = repo();
    r.commit('feat: base');
    r.tag('v1.0.0');
    r.commit('feat: new');
    const run = await runBundledAction('version-bump', {
      cwd: r.dir,
      env: { GITHUB_REF: 'refs/heads/main', GITHUB_SHA: r.head() },
      event: { ref: 'refs/heads/main', after: r.head() },
    });
    expect(run.code).toBe(0);
    expect(run.outputs.version).toBe('1.1.0');
    expect(run.outputs.release).toBe('true');
    expect(run.outputs.channel).toBe('stable');
    expect(run.summary).toContain('| (repository) | 1.0.0 → 1.1.0 | minor |');
  });

  it('reads the tag-prefix and initial-version inputs as the runner passes them', async () => {
    const r = repo();
    r.commit('chore: scaffold');
    const run = await runBundledAction('version-bump', {
      cwd: r.dir,
      inputs: { 'tag-prefix': 'rel-', 'initial-version': 'v3.0.0' },
      env: { GITHUB_REF: 'refs/heads/master' },
    });
    expect(run.code).toBe(0);
    expect(run.outputs.version).toBe('3.0.0');
    expect(run.outputs.tag).toBe('rel-3.0.0');
    expect(run.outputs.channel).toBe('stable');
  });

  it('fails with the file, line and expectation for a bad policy file, without a stack', async () => {
    const r = repo();
    mkdirSync(path.join(r.dir, '.github'));
    writeFileSync(path.join(r.dir, '.github/slipway.yml'), 'components:\n  api:\n    paths: services/api/**\n');
    r.commit('chore: init');
    const run = await runBundledAction('version-bump', { cwd: r.dir, inputs: { branch: 'main' } });
    expect(run.code).toBe(1);
    const errors = errorLines(run);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/\.github\/slipway\.yml:3:5: components\.api\.paths: expected array, received string/);
    expect(run.stdout + run.stderr).not.toMatch(/\n\s+at /);
  });

  it('rejects a bad input naming it', async () => {
    const r = repo();
    r.commit('feat: base');
    const run = await runBundledAction('version-bump', { cwd: r.dir, inputs: { bump: 'huge', branch: 'main' } });
    expect(run.code).toBe(1);
    expect(errorLines(run)[0]).toContain('input "bump": expected one of auto, major, minor, patch, none, got "huge"');
  });
});
