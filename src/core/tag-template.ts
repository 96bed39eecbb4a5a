/** Tag templates such as `v{version}` or `backend-v{version}`: formatting and parsing. */
import parse from 'semver/functions/parse.js';
import type { SemVer } from 'semver';

/** Whether git and GitHub accept `tag` as a tag name (the common rules of git check-ref-format). */
export function isValidTagName(tag: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what a tag name may not hold
  return !!tag && !/[\s~^:?*[\\\x00-\x1f\x7f]|\.\.|@\{|^[./-]|[./]$|\.lock$|\/\//.test(tag);
}

/** Apply a template to a version: `backend-v{version}` + 1.2.0 → `backend-v1.2.0`. */
export function formatTag(template: string, version: string): string {
  return template.replace('{version}', version);
}

/** The glob that selects a template's tags for `git for-each-ref`. */
export function tagGlob(template: string): string {
  return template.replace('{version}', '*');
}

// A component's prefix is a prefix of another's ("api-v" and "api-v2-v"): only a clean semver counts.
const VERSION = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** A matcher of one template's tags: the version text's parts, or null for a stray tag. */
function versionMatcher(template: string): (tag: string) => RegExpExecArray | null {
  const idx = template.indexOf('{version}');
  const prefix = template.slice(0, idx);
  const suffix = template.slice(idx + '{version}'.length);
  const fixed = prefix.length + suffix.length;
  return (tag) =>
    tag.length > fixed && tag.startsWith(prefix) && tag.endsWith(suffix)
      ? VERSION.exec(tag.slice(prefix.length, tag.length - suffix.length))
      : null;
}

/** The version in `tag` when it matches `template` and is valid semver, else null. */
export function parseTag(template: string, tag: string): SemVer | null {
  const m = versionMatcher(template)(tag);
  return m ? parse(m[0]) : null;
}

/** A stable (no prerelease) tag of a template, with its version numbers. */
export interface StableTag {
  name: string;
  major: number;
  minor: number;
  patch: number;
}

/** `name` as a stable tag of the template whose matcher is `match`, or null (a prerelease, a stray tag). */
function stableTag(match: (tag: string) => RegExpExecArray | null, name: string): StableTag | null {
  const m = match(name);
  if (!m || m[4] !== undefined) return null;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const patch = Number(m[3]);
  if (!Number.isSafeInteger(major) || !Number.isSafeInteger(minor) || !Number.isSafeInteger(patch)) return null;
  return { name, major, minor, patch };
}

const byVersionDescending = (a: StableTag, b: StableTag): number =>
  b.major - a.major || b.minor - a.minor || b.patch - a.patch;

/** The highest stable tag among `names` for `template`, in one pass (no sort), or undefined. */
export function highestStableTag(template: string, names: readonly string[]): StableTag | undefined {
  const match = versionMatcher(template);
  let best: StableTag | undefined;
  for (const name of names) {
    const t = stableTag(match, name);
    if (t && (!best || byVersionDescending(best, t) > 0)) best = t;
  }
  return best;
}

/**
 * The stable tags among `names` for `template`, highest version first. Cheaper than
 * parseTag on every name: thousands of tags are sorted on their numbers alone, and only
 * the one that wins needs a full semver parse.
 */
export function stableTagsByVersion(template: string, names: readonly string[]): StableTag[] {
  const match = versionMatcher(template);
  const out: StableTag[] = [];
  for (const name of names) {
    const t = stableTag(match, name);
    if (t) out.push(t);
  }
  return out.sort(byVersionDescending);
}
