/** The branching policy: which rule a branch falls under. */
import type { BranchRule } from '../core/config.js';
import { UserError } from '../core/errors.js';

/** True when `branch` matches `pattern`; `*` matches any characters, slashes included. */
export function branchMatches(pattern: string, branch: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(branch);
}

/** The first rule that matches `branch`. */
export function ruleFor(rules: BranchRule[], branch: string): BranchRule {
  const rule = rules.find((r) => branchMatches(r.match, branch));
  if (!rule)
    throw new UserError(
      `branch "${branch}" matches no rule of versioning.branches (add a final { match: "*", channel: none })`,
    );
  return rule;
}

/** The branch a run is about: the input, else the pull request's head, else GITHUB_REF. */
export function branchFromEnv(input: string, env: NodeJS.ProcessEnv): string | null {
  if (input) return input.replace(/^refs\/heads\//, '');
  if (env.GITHUB_HEAD_REF) return env.GITHUB_HEAD_REF;
  const ref = env.GITHUB_REF ?? '';
  if (ref.startsWith('refs/heads/')) return ref.slice('refs/heads/'.length);
  return null;
}

/** The `X.Y` or `X.Y.Z` in a `release/X.Y` branch name, as X.Y.Z, or null. */
export function versionInBranch(branch: string): string | null {
  const m = /(?:^|\/)v?(\d+)\.(\d+)(?:\.(\d+))?$/.exec(branch);
  if (!m) return null;
  return `${m[1]}.${m[2]}.${m[3] ?? '0'}`;
}

/** A branch name as a semver prerelease identifier: `feature/Login_v2` → `feature-login-v2`. */
export function branchSlug(branch: string): string {
  const slug = branch
    .toLowerCase()
    .replace(/[^0-9a-z-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  const id = (slug || 'branch').slice(0, 40).replace(/-$/, '');
  // semver refuses an all-digit identifier with a leading zero (a branch named 007): a
  // letter makes it alphanumeric, which semver takes as it is.
  return /^0\d+$/.test(id) ? `branch-${id}`.slice(0, 40) : id;
}

/** One semver prerelease identifier: letters, digits and -, all-digit only without a leading zero. */
const PRERELEASE_PART = /^(0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)$/;

/** Whether `id` is a semver prerelease (`beta`, `beta.2`, `rc-1`): dot-separated identifiers. */
export function isPrereleaseId(id: string): boolean {
  return id.split('.').every((part) => PRERELEASE_PART.test(part));
}
