/**
 * Kubernetes manifests of the repository for `kubectl apply`, rendered at a version: every
 * `{version}` in their text is replaced, and the result is written to a private folder that
 * kubectl reads; the user's files are never edited. A kustomize folder gets, instead, an
 * overlay in that private folder whose `images:` sets the tag of the target's `image` to the
 * version (kustomize's own way). A path that resolves outside the workspace (`../x`, an
 * absolute path, a committed symlink) is refused before anything is read.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { resolveInside, workspaceRoot } from '../../core/workspace-path.js';
import { TargetError, type TargetOptions } from './target.js';

/** The files kubectl reads from a folder given to `-f` (without `-R`). */
const MANIFEST_FILE = /\.(ya?ml|json)$/;

/** The `manifests` key: one path or a list, each a relative path in the repository. */
export function manifestPaths(options: TargetOptions): string[] {
  const value = options.deploy.manifests;
  const list = typeof value === 'string' ? [value] : value;
  const expected = 'expected a path or a list of paths of the repository (files or folders of YAML manifests)';
  if (!Array.isArray(list) || list.length === 0 || list.some((p) => typeof p !== 'string' || p.trim() === ''))
    throw options.errorAt('manifests', expected);
  for (const p of list as string[]) {
    const normal = path.normalize(p);
    if (path.isAbsolute(p) || normal === '..' || normal.startsWith(`..${path.sep}`))
      throw options.errorAt('manifests', `"${p}" is outside the repository; ${expected}`);
  }
  return list as string[];
}

/** One rendered manifest: where kubectl reads it, and the repository path messages name. */
export interface RenderedManifest {
  file: string;
  shown: string;
}

/** The real path of a configured path, refused outside the workspace; null when it does not exist. */
async function realInWorkspace(root: string, abs: string, shown: string): Promise<string | null> {
  const { real, exists, inside } = await resolveInside(root, abs);
  if (!exists) return null;
  if (!inside)
    throw new TargetError(
      `manifests: ${shown} resolves to ${real}, outside the workspace ${root}; manifests must be files of the repository`,
    );
  return real;
}

/** The manifest files a configured path names: the file, or a folder's YAML and JSON files in name order. */
async function filesOf(root: string, cwd: string, entry: string): Promise<{ real: string; shown: string }[]> {
  const real = await realInWorkspace(root, path.resolve(cwd, entry), entry);
  if (!real) throw new TargetError(`manifests: ${entry} does not exist (expected a file or folder of the repository)`);
  if (!(await stat(real)).isDirectory()) return [{ real, shown: entry }];
  const names = (await readdir(real)).sort();
  const files: { real: string; shown: string }[] = [];
  for (const name of names.filter((n) => MANIFEST_FILE.test(n))) {
    const shown = path.join(entry, name);
    const file = await realInWorkspace(root, path.join(real, name), shown);
    if (file && (await stat(file)).isFile()) files.push({ real: file, shown });
  }
  if (files.length === 0) throw new TargetError(`manifests: ${entry} has no .yaml, .yml or .json file`);
  return files;
}

/** The first problem of a rendered manifest as "file:line:col: what", or null when each document is an object. */
function problemOf(text: string, shown: string): string | null {
  const lines = new LineCounter();
  for (const doc of parseAllDocuments(text, { lineCounter: lines, prettyErrors: false })) {
    const at = (offset: number) => {
      const pos = lines.linePos(offset);
      return `${shown}:${pos.line}:${pos.col}`;
    };
    const error = doc.errors[0];
    if (error)
      return `${at(error.pos[0])}: invalid YAML: ${error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      // An alias bomb or an unresolvable alias: parsed, but not a value kubectl could read.
      return `${at(doc.range[0])}: invalid YAML: ${(err as Error).message.split('\n')[0]}`;
    }
    if (value === null || value === undefined) continue;
    const object = value as { apiVersion?: unknown; kind?: unknown };
    if (
      typeof value !== 'object' ||
      Array.isArray(value) ||
      typeof object.apiVersion !== 'string' ||
      typeof object.kind !== 'string'
    )
      return `${at(doc.range[0])}: expected a Kubernetes object with "apiVersion" and "kind"`;
  }
  return null;
}

/** The names kustomize reads a folder's kustomization from. */
const KUSTOMIZATION = /^(kustomization\.ya?ml|Kustomization)$/;

/** What `renderManifests` made: plain files for `kubectl apply -f`, or an overlay for kustomize to build. */
export type Rendered =
  { kind: 'files'; files: RenderedManifest[] } | { kind: 'kustomize'; overlay: string; shown: string; image: string };

/**
 * Render `entries` at `version` into `dir` (a private folder the caller made and removes).
 * Plain manifests: every `{version}` replaced, each file checked to be YAML of Kubernetes
 * objects, kept in order (kubectl applies a folder's files in name order). A kustomize folder
 * (the only entry): an overlay of it that sets the tag of `template`'s image to the version.
 * Throws a one-line TargetError naming the key and the file.
 */
export async function renderManifests(
  cwd: string,
  entries: readonly string[],
  version: string,
  dir: string,
  template?: string,
): Promise<Rendered> {
  const root = await workspaceRoot(cwd);
  const kustomize: string[] = [];
  for (const entry of entries) {
    const real = await realInWorkspace(root, path.resolve(cwd, entry), entry);
    if (real && (await stat(real)).isDirectory() && (await readdir(real)).some((n) => KUSTOMIZATION.test(n)))
      kustomize.push(real);
  }
  if (kustomize.length > 0) {
    if (entries.length > 1)
      throw new TargetError(
        `manifests: ${entries.join(', ')}: a kustomize folder must be the only entry (expected one folder with a kustomization.yaml, or plain manifests)`,
      );
    return kustomizeOverlay(kustomize[0], entries[0], version, dir, template);
  }
  const sources = (await Promise.all(entries.map((e) => filesOf(root, cwd, e)))).flat();
  const texts = await Promise.all(sources.map((s) => readFile(s.real, 'utf8')));
  if (!texts.some((t) => t.includes('{version}')))
    throw new TargetError(
      `manifests: no "{version}" in ${sources.map((s) => s.shown).join(', ')} (expected it where the version goes, for example "image: ghcr.io/acme/api:{version}")`,
    );
  const files: RenderedManifest[] = [];
  for (const [i, source] of sources.entries()) {
    const text = texts[i].replaceAll('{version}', version);
    const problem = problemOf(text, source.shown);
    if (problem) throw new TargetError(`manifests: ${problem}`);
    const base = path.basename(source.shown);
    const file = path.join(dir, `${String(i).padStart(3, '0')}-${MANIFEST_FILE.test(base) ? base : `${base}.yaml`}`);
    await writeFile(file, text, { mode: 0o600 });
    files.push({ file, shown: source.shown });
  }
  return { kind: 'files', files };
}

/**
 * An overlay in `dir` of the kustomize folder `real`: its resources plus an `images:` entry
 * setting the tag of `template`'s image to the version. kustomize refuses an absolute
 * resource path, so the overlay names the folder relative to itself.
 */
async function kustomizeOverlay(
  real: string,
  shown: string,
  version: string,
  dir: string,
  template: string | undefined,
): Promise<Rendered> {
  const expected = 'expected "image" with the version in its tag, for example "ghcr.io/acme/api:{version}"';
  if (template === undefined)
    throw new TargetError(
      `manifests: ${shown} is a kustomize folder, whose version is set as the tag of "image", which is missing (${expected})`,
    );
  const colon = template.lastIndexOf(':');
  const name = template.slice(0, colon);
  const tag = template.slice(colon + 1);
  if (
    template.includes('@') ||
    colon <= template.lastIndexOf('/') ||
    name.includes('{version}') ||
    !tag.includes('{version}')
  )
    throw new TargetError(`image: "${template}" cannot be set by kustomize (${expected})`);
  const overlay = path.join(dir, 'overlay');
  await mkdir(overlay, { mode: 0o700 });
  const newTag = tag.replaceAll('{version}', version);
  const kustomization = [
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    `resources: [${JSON.stringify(path.relative(overlay, real))}]`,
    `images: [{ name: ${JSON.stringify(name)}, newTag: ${JSON.stringify(newTag)} }]`,
    '',
  ].join('\n');
  await writeFile(path.join(overlay, 'kustomization.yaml'), kustomization, { mode: 0o600 });
  return { kind: 'kustomize', overlay, shown, image: `${name}:${newTag}` };
}
