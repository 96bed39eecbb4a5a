/**
 * A component's content hash: git's own object hashes of its build inputs at the head
 * commit (a whole folder's glob is its tree hash, so nothing is read file by file), plus
 * the hashes of what it depends on and its build command. Equal hashes mean equal inputs,
 * which is what lets a cached build stand in for a new one.
 */
import { createHash } from 'node:crypto';
import picomatch from 'picomatch';
import type { Git } from '../core/git.js';
import { topologicalOrder } from '../core/graph.js';
import { compileGlobs, globBase } from './patterns.js';

/** What a hash is computed from. */
export interface HashInput {
  name: string;
  /** build.inputs, else paths. */
  inputs: string[];
  dependsOn: string[];
  /** build.run ('' when there is none). */
  command: string;
}

/** What the patterns need from the head tree: object SHAs of whole paths, and files under some folders. */
type TreeIndex = { objects: Map<string, string | null>; blobs: string[]; root: string };

/** The path a pattern stands for as one whole object (a file, or a folder's tree), else null. */
function wholeObject(pattern: string): string | null {
  const scan = picomatch.scan(pattern);
  if (!scan.isGlob) return globBase(pattern);
  return scan.glob === '**' ? globBase(pattern) : null;
}

/** Content hashes of `names` and, because they feed in, of everything they depend on. */
export async function contentHashes(
  git: Git,
  head: string,
  components: readonly HashInput[],
  names: readonly string[],
): Promise<Record<string, string>> {
  const byName = new Map(components.map((c) => [c.name, c]));
  const needed = new Set<string>();
  const add = (n: string) => {
    if (needed.has(n) || !byName.has(n)) return;
    needed.add(n);
    byName.get(n)!.dependsOn.forEach(add);
  };
  names.forEach(add);
  if (!needed.size) return {};
  const tree = await readTree(
    git,
    head,
    [...needed].map((n) => byName.get(n)!.inputs),
  );
  const hashes: Record<string, string> = {};
  const deps = Object.fromEntries([...needed].map((n) => [n, byName.get(n)!.dependsOn.filter((d) => needed.has(d))]));
  for (const n of topologicalOrder(deps)) {
    const c = byName.get(n)!;
    const h = createHash('sha256');
    h.update(`command\0${c.command}\0`);
    for (const line of inputEntries(tree, c.inputs)) h.update(`${line}\0`);
    for (const d of [...c.dependsOn].sort()) h.update(`dep\0${d}\0${hashes[d] ?? ''}\0`);
    hashes[n] = h.digest('hex').slice(0, 40);
  }
  return Object.fromEntries(names.filter((n) => hashes[n]).map((n) => [n, hashes[n]]));
}

/**
 * Read what the pattern lists need: whole paths through one `ls-tree` of their parent folders, and a
 * recursive listing only under the folders of patterns that pick files out of a folder.
 */
async function readTree(git: Git, head: string, lists: string[][]): Promise<TreeIndex> {
  const whole = new Set<string>();
  const listed = new Set<string>();
  for (const patterns of lists) {
    const filtering = patterns.some((p) => p.startsWith('!'));
    for (const p of patterns) {
      if (p.startsWith('!')) continue;
      const obj = filtering ? null : wholeObject(p);
      if (obj === null) listed.add(globBase(p));
      else if (obj !== '') whole.add(obj);
    }
  }
  const root = (await git.run(['rev-parse', `${head}^{tree}`])).trim();
  const objects = await git.objectHashes(head, [...whole]);
  const blobs: string[] = [];
  if (listed.size) {
    const args = ['ls-tree', '-r', '-z', '--full-tree', head];
    if (!listed.has('')) args.push('--', ...[...listed].sort());
    for (const rec of (await git.run(args)).split('\0')) {
      if (!rec) continue;
      const tab = rec.indexOf('\t');
      const path = rec.slice(tab + 1);
      objects.set(path, rec.slice(0, tab).split(' ')[2]);
      blobs.push(path);
    }
  }
  return { objects, blobs, root };
}

/** "pattern → object" lines standing for the content the patterns select. */
function inputEntries(tree: TreeIndex, patterns: readonly string[]): string[] {
  const lines: string[] = [];
  const hasNegation = patterns.some((p) => p.startsWith('!'));
  if (hasNegation) {
    const match = compileGlobs(patterns);
    for (const f of tree.blobs) if (match(f)) lines.push(`file\0${f}\0${tree.objects.get(f)}`);
    return lines.sort();
  }
  for (const p of patterns) {
    const scan = picomatch.scan(p);
    const base = globBase(p);
    if (!scan.isGlob) {
      lines.push(`path\0${p}\0${tree.objects.get(base) ?? 'absent'}`);
    } else if (scan.glob === '**') {
      lines.push(`tree\0${p}\0${base === '' ? tree.root : (tree.objects.get(base) ?? 'absent')}`);
    } else {
      const match = picomatch(p, { dot: true });
      const prefix = base ? `${base}/` : '';
      for (const f of tree.blobs)
        if (f.startsWith(prefix) && match(f)) lines.push(`file\0${p}\0${f}\0${tree.objects.get(f)}`);
    }
  }
  return lines.sort();
}
