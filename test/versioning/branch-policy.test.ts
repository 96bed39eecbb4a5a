/** The branching policy as pure logic: which rule a branch falls under, and what it names. */
import { describe, expect, it } from '@jest/globals';
import valid from 'semver/functions/valid.js';
import { DEFAULT_BRANCHES } from '../../src/core/config.js';
import {
  branchFromEnv,
  branchMatches,
  branchSlug,
  ruleFor,
  versionInBranch,
} from '../../src/versioning/branch-policy.js';

describe('branch policy', () => {
  it('matches globs across slashes, and the first matching rule wins', () => {
    expect(branchMatches('release/*', 'release/0.105')).toBe(true);
    expect(branchMatches('release/*', 'hotfix/0.105')).toBe(false);
    expect(branchMatches('feature/?', 'feature/a')).toBe(true);
    expect(branchMatches('a.b', 'aXb')).toBe(false);
    expect(ruleFor(DEFAULT_BRANCHES, 'main').channel).toBe('stable');
    expect(ruleFor(DEFAULT_BRANCHES, 'release/1.2').channel).toBe('rc');
    expect(ruleFor(DEFAULT_BRANCHES, 'hotfix/x')).toMatchObject({ channel: 'stable', bump: 'patch' });
    expect(ruleFor(DEFAULT_BRANCHES, 'feature/x').channel).toBe('none');
    expect(() => ruleFor([{ match: 'main', channel: 'stable' }], 'dev')).toThrow(
      /matches no rule of versioning\.branches/,
    );
  });

  it('reads the branch from the input, a pull request head, or GITHUB_REF', () => {
    expect(branchFromEnv('refs/heads/release/1.2', {})).toBe('release/1.2');
    expect(branchFromEnv('', { GITHUB_HEAD_REF: 'feature/x', GITHUB_REF: 'refs/pull/1/merge' })).toBe('feature/x');
    expect(branchFromEnv('', { GITHUB_REF: 'refs/heads/main' })).toBe('main');
    expect(branchFromEnv('', { GITHUB_REF: 'refs/tags/v1.0.0' })).toBeNull();
  });

  it('reads X.Y from a release branch and makes a prerelease identifier of any branch', () => {
    expect(versionInBranch('release/0.105')).toBe('0.105.0');
    expect(versionInBranch('release/v2.3.4')).toBe('2.3.4');
    expect(versionInBranch('release/next')).toBeNull();
    expect(branchSlug('feature/Login_v2')).toBe('feature-login-v2');
  });

  it('never makes an all-digit identifier with a leading zero, so every preview version is valid semver', () => {
    expect(branchSlug('007')).toBe('branch-007');
    expect(branchSlug('feature/007')).toBe('feature-007');
    expect(branchSlug('00')).toBe('branch-00');
    expect(branchSlug('0')).toBe('0');
    expect(branchSlug('123')).toBe('123');
    for (const branch of [
      '007',
      '0',
      '00',
      '0/1',
      '-',
      '___',
      'Ünïcødé',
      'release/1.2',
      'feature/Login_v2',
      '0'.repeat(60),
      `${'a'.repeat(39)}-b`,
      'dependabot/npm_and_yarn/@types/node-20.1.0',
    ]) {
      const preview = `0.1.0-${branchSlug(branch)}+abc1234`;
      // valid() answers without the build metadata (+abc1234), null when invalid.
      expect([branch, valid(preview)]).toEqual([branch, preview.replace(/\+.*$/, '')]);
    }
  });
});
