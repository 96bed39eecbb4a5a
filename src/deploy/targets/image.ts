/** Image references built from a `{version}` template, and the version read back from one. */
import type { TargetOptions } from './target.js';

/** The image reference of `version` under `template` (`example/api:{version}`). */
export function imageFor(template: string, version: string): string {
  return template.replaceAll('{version}', version);
}

/**
 * The version an image reference was made from under `template`; when the reference does not
 * follow the template (someone set it by hand), its tag, or null without one.
 */
export function versionOf(template: string, image: string): string | null {
  const parts = template.split('{version}').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const m = new RegExp(`^${parts.join('(.+?)')}$`).exec(image);
  if (m && m[1] !== undefined) return m[1];
  const name = image.split('@')[0];
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > slash ? name.slice(colon + 1) : null;
}

/** A required string key of the `deploy:` mapping, or a located error saying what it is for. */
export function requiredString(options: TargetOptions, key: string, what: string): string {
  const value = options.deploy[key];
  if (typeof value !== 'string' || value.trim() === '')
    throw options.errorAt(key, `a ${options.deploy.target} target needs "${key}" (${what})`);
  return value;
}

/** An optional string key, or a located error when it is not a string. */
export function optionalString(options: TargetOptions, key: string): string | undefined {
  const value = options.deploy[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw options.errorAt(key, `expected a non-empty string`);
  return value;
}

/** An image template key: a string containing `{version}`. */
export function imageTemplate(options: TargetOptions, key = 'image'): string {
  const template = requiredString(options, key, 'the image reference, with {version} where the version goes');
  if (!template.includes('{version}'))
    throw options.errorAt(key, `expected "{version}" in the image reference (for example "example/api:{version}")`);
  return template;
}
