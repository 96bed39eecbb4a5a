/**
 * Components found in the package manager's workspaces (`workspaces:` in the policy file):
 * every npm, yarn, bun or pnpm workspace package becomes a component whose paths are its
 * folder (less the workspace packages nested in it) and the root manifests and lockfiles, and
 * whose dependsOn are the workspace packages it depends on, as Turborepo reads them. A
 * monorepo of hundreds of packages then needs no component list of its own.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import { UserError } from './errors.js';
import { parseYaml } from './yaml-source.js';

/** A package found in the workspaces, as a component. */
export interface WorkspacePackage {
  /** The component name: the package name without "@", "/" made "-" (`@acme/web` → `acme-web`). */
  name: string;
  /** The package's folder, relative to the repository, with "/" separators. */
  folder: string;
  /**
   * The component's globs: `<folder>/**`, `!<nested>/**` for each workspace package nested in
   * it, and the root files that change what every package installs ({@link ROOT_FILES}).
   */
  paths: string[];
  /** Component names of the workspace packages it depends on (any dependency field). */
  dependsOn: string[];
}

/**
 * The root files whose change selects every workspace package: the root manifest, every
 * package manager's lockfile and pnpm's workspace file. They are listed whether or not they
 * exist: a lockfile deleted or replaced (yarn.lock → pnpm-lock.yaml) must still count, in
 * the change that deletes it and in the history version-bump reads, and a name that never
 * existed never changes.
 */
export const ROOT_FILES = [
  'package.json',
  'package-lock.json',
  'npm-shrinkwrap.json',
  'pnpm-lock.yaml',
  'pnpm-workspace.yaml',
  'yarn.lock',
  'bun.lock',
  'bun.lockb',
] as const;

const COMPONENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'] as const;

/**
 * The workspace packages of the repository at `cwd`. `globs` are the policy file's own, else
 * the root package.json's `workspaces` (an array, or yarn's `{ packages }`), else
 * pnpm-workspace.yaml's `packages`. `where` names the policy key in messages.
 */
export function discoverWorkspaces(
  cwd: string,
  globs: readonly string[] | undefined,
  where: string,
): WorkspacePackage[] {
  const patterns = globs ?? workspaceGlobs(cwd, where);
  const include = patterns.filter((p) => !p.startsWith('!')).map(normalize);
  const exclude = picomatch(
    patterns.filter((p) => p.startsWith('!')).map((p) => normalize(p.slice(1))),
    { dot: false },
  );
  const folders = new Set<string>();
  for (const pattern of include) for (const folder of expand(cwd, pattern)) if (!exclude(folder)) folders.add(folder);

  const found: { folder: string; file: string; manifest: Record<string, unknown> }[] = [];
  for (const folder of [...folders].sort()) {
    const file = `${folder}/package.json`;
    const text = readIfFile(path.join(cwd, file));
    if (text !== undefined) found.push({ folder, file, manifest: parseManifest(text, file) });
  }

  const byPackage = new Map<string, WorkspacePackage>();
  const fileOf = new Map<string, string>();
  const packages: WorkspacePackage[] = [];
  for (const { folder, file, manifest } of found) {
    const packageName =
      typeof manifest.name === 'string' && manifest.name !== '' ? manifest.name : path.basename(folder);
    const name = packageName.replace(/^@/, '').replace(/\//g, '-');
    if (!COMPONENT_NAME.test(name))
      throw new UserError(
        `${file}: package name "${packageName}" cannot be a component name (expected letters, digits, "-", "_", "." after "@scope/" is made "scope-")`,
        { file },
      );
    const earlier = fileOf.get(name);
    if (earlier)
      throw new UserError(
        `${file}: package "${packageName}" becomes component "${name}", as ${earlier} does (${where}: two workspace packages cannot share a name)`,
        { file },
      );
    fileOf.set(name, file);
    const pkg: WorkspacePackage = { name, folder, paths: [], dependsOn: [] };
    byPackage.set(packageName, pkg);
    packages.push(pkg);
  }
  found.forEach(({ manifest }, i) => {
    const deps = new Set<string>();
    for (const field of DEPENDENCY_FIELDS) {
      const entries = manifest[field];
      if (entries && typeof entries === 'object')
        for (const dep of Object.keys(entries)) {
          const target = byPackage.get(dep);
          if (target && target !== packages[i]) deps.add(target.name);
        }
    }
    packages[i].dependsOn = [...deps];
  });
  const folderList = packages.map((p) => p.folder);
  for (const pkg of packages) pkg.paths = workspacePaths(pkg.folder, folderList);
  return packages;
}

/**
 * A package's globs. A file belongs to the innermost package folder only (as Turborepo and
 * pnpm --filter attribute it), so the packages nested inside are excluded. A glob selects
 * when some positive one matches and no `!` one does, whatever their order, and every
 * excluded folder is below `folder`, so no exclusion can cancel a root file.
 */
function workspacePaths(folder: string, folders: readonly string[]): string[] {
  const excluded = outermostNested(folder, folders).map((f) => `!${f}/**`);
  return [`${folder}/**`, ...excluded, ...ROOT_FILES];
}

/** The package folders inside `folder` that are not inside another one of them (one exclusion covers those). */
function outermostNested(folder: string, folders: readonly string[]): string[] {
  const nested = folders.filter((f) => f.startsWith(`${folder}/`));
  return nested.filter((f) => !nested.some((outer) => f.startsWith(`${outer}/`))).sort();
}

/** The workspace globs the package manager itself reads. */
function workspaceGlobs(cwd: string, where: string): string[] {
  const rootText = readIfFile(path.join(cwd, 'package.json'));
  if (rootText !== undefined) {
    const ws = parseManifest(rootText, 'package.json').workspaces;
    const list = Array.isArray(ws) ? ws : (ws as { packages?: unknown } | undefined)?.packages;
    if (Array.isArray(list)) return stringList(list, 'package.json: "workspaces"');
  }
  const pnpmText = readIfFile(path.join(cwd, 'pnpm-workspace.yaml'));
  if (pnpmText !== undefined) {
    const value = parseYaml(pnpmText, 'pnpm-workspace.yaml').value as { packages?: unknown } | null;
    if (Array.isArray(value?.packages)) return stringList(value.packages, 'pnpm-workspace.yaml: "packages"');
  }
  throw new UserError(
    `${where}: no workspaces found (expected "workspaces" in package.json, "packages" in pnpm-workspace.yaml, or ${where}.packages listing the package folders' globs)`,
  );
}

function stringList(list: unknown[], what: string): string[] {
  if (list.every((x): x is string => typeof x === 'string' && x.trim() !== '')) return list;
  throw new UserError(`${what}: expected a list of folder globs such as "packages/*"`);
}

/** `./packages/*\/` → `packages/*`. */
function normalize(glob: string): string {
  return glob.trim().replace(/^\.\//, '').replace(/\/+$/, '');
}

/**
 * The folders matching one glob, walked segment by segment so that `packages/*` reads one
 * directory; `**` descends, never into node_modules or dot folders (npm skips them too).
 */
function expand(cwd: string, pattern: string): string[] {
  const segments = pattern.split('/').filter((s) => s !== '' && s !== '.');
  let current = [''];
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    if (seg === '**') {
      const rest = segments.slice(i + 1).join('/');
      const matchRest = rest === '' ? () => true : picomatch(rest, { dot: false });
      const out: string[] = [];
      for (const base of current)
        for (const folder of [base, ...descendants(cwd, base)]) {
          const tail = base === '' ? folder : folder.slice(base.length + 1);
          if (folder !== '' && (rest === '' || matchRest(tail))) out.push(folder);
        }
      return out;
    }
    if (!picomatch.scan(seg).isGlob) {
      current = current.map((base) => (base ? `${base}/${seg}` : seg));
      continue;
    }
    const match = picomatch(seg, { dot: false });
    current = current.flatMap((base) =>
      subfolders(cwd, base)
        .filter((name) => match(name))
        .map((name) => (base ? `${base}/${name}` : name)),
    );
  }
  return current.filter((f) => f !== '');
}

function subfolders(cwd: string, folder: string): string[] {
  try {
    return readdirSync(path.join(cwd, folder), { withFileTypes: true })
      .filter((d) => d.isDirectory() && d.name !== 'node_modules' && !d.name.startsWith('.'))
      .map((d) => d.name);
  } catch {
    return [];
  }
}

function descendants(cwd: string, folder: string): string[] {
  const out: string[] = [];
  for (const name of subfolders(cwd, folder)) {
    const child = folder ? `${folder}/${name}` : name;
    out.push(child, ...descendants(cwd, child));
  }
  return out;
}

function readIfFile(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw new UserError(`${file}: cannot read: ${code ?? String(err)}`);
  }
}

/** A package.json's object; invalid JSON is a one-line error at its line. */
function parseManifest(text: string, file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const at = /position (\d+)/.exec(message);
    const line = at ? text.slice(0, Number(at[1])).split('\n').length : undefined;
    throw new UserError(
      `${file}${line ? `:${line}` : ''}: invalid JSON in a workspace package's manifest: ${message.replace(/ in JSON at position \d+.*$/, '')}`,
      { file, line },
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new UserError(`${file}: expected a JSON object (a package manifest)`, { file });
  return value as Record<string, unknown>;
}
