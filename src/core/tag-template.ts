/** Tag templates such as `v{version}` or `backend-v{version}`: formatting and parsing. */
import semver from 'semver';

/** Apply a template to a version: `backend-v{version}` + 1.2.0 → `backend-v1.2.0`. */
export function formatTag(template: string, version: string): string {
  return template.replace('{version}', version);
}

/** The glob that selects a template's tags for `git for-each-ref`. */
export function tagGlob(template: string): string {
  return template.replace('{version}', '*');
}

/** The version in `tag` when it matches `template` and is valid semver, else null. */
export function parseTag(template: string, tag: string): semver.SemVer | null {
  const idx = template.indexOf('{version}');
  const prefix = template.slice(0, idx);
  const suffix = template.slice(idx + '{version}'.length);
  if (!tag.startsWith(prefix) || !tag.endsWith(suffix)) return null;
  const middle = tag.slice(prefix.length, tag.length - suffix.length);
  // A component's prefix is a prefix of another's ("api-v" and "api-v2-v"): only a clean semver counts.
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(middle)) return null;
  return semver.parse(middle);
}
