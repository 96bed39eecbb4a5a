/**
 * Which components a changed file belongs to. Globs are picomatch's (dotfiles match, `!`
 * excludes); each glob is indexed by its literal base folder so a file is only tested
 * against the globs that could match it — with thousands of components and thousands of
 * changed files, testing every pair would dominate the run.
 */
import picomatch from 'picomatch';

/** The kind of change a file went through, in paths-filter's words. */
export type ChangeKind = 'added' | 'modified' | 'deleted';

/** A set of globs that select a component, optionally only for some kinds of change. */
export interface PatternGroup {
  patterns: string[];
  /** Only these kinds of change count; undefined means every kind. */
  changes?: ChangeKind[];
}

/** A component as selection sees it. */
export interface Selectable {
  name: string;
  groups: PatternGroup[];
  dependsOn: string[];
}

/** One changed path and how it changed. */
export interface ChangedPath {
  path: string;
  kind: ChangeKind;
}

const OPTIONS: picomatch.PicomatchOptions = { dot: true };

/** A group's globs, compiled on first use: most components never see a changed file. */
class CompiledGroup {
  private test: ((file: string) => boolean) | undefined;
  constructor(
    readonly component: string,
    private readonly patterns: readonly string[],
    readonly changes: Set<ChangeKind> | null,
  ) {}

  matches(file: string): boolean {
    this.test ??= compileGlobs(this.patterns);
    return this.test(file);
  }
}

/** The folder of a glob that means "everything under this folder" (`web/**`), else null. */
function wholeFolder(pattern: string): string | null {
  // The folder part holds none of picomatch's special characters, so it is literal.
  return /^([^!*?[\]{}()@+\\]+?)\/\*\*$/.exec(pattern)?.[1] ?? null;
}

/**
 * A path without glob characters names that file or folder and everything in it, as git
 * reads it as a pathspec (version-bump's log, the content hashes): `svc/a` and `svc/a/` are
 * `svc/a/**` (which picomatch also matches to `svc/a` itself), so what is rebuilt and what
 * gets a new version agree.
 */
function asFolderToo(pattern: string): string {
  const exclude = pattern.startsWith('!');
  const path = exclude ? pattern.slice(1) : pattern;
  if (!path || picomatch.scan(path).isGlob) return pattern;
  return `${exclude ? '!' : ''}${path.replace(/\/+$/, '')}/**`;
}

/** Compile globs (with `!` negation) to one predicate: some positive glob matches and no negative one does. */
export function compileGlobs(globs: readonly string[]): (file: string) => boolean {
  const patterns = globs.map(asFolderToo);
  // The usual component (`paths: [web/**]`) needs no regular expression: a prefix test gives
  // picomatch's answer (dot files included) at a fraction of the cost for thousands of files.
  const folders = patterns.map(wholeFolder);
  if (folders.every((f) => f !== null)) {
    const prefixes = folders.map((f) => `${f}/`);
    // `web/**` also matches `web` itself, as picomatch's globstar matches no segment at all.
    return (file) => folders.includes(file) || prefixes.some((prefix) => file.startsWith(prefix));
  }
  const pos = patterns.filter((p) => !p.startsWith('!'));
  const neg = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  const isPos = pos.length ? picomatch(pos, OPTIONS) : () => true;
  const isNeg = neg.length ? picomatch(neg, OPTIONS) : null;
  return (file) => isPos(file) && !(isNeg && isNeg(file));
}

/** The literal folder (or file) a glob starts with: '' when it can match anywhere. */
export function globBase(pattern: string): string {
  const folder = wholeFolder(pattern);
  if (folder !== null) return folder;
  const scan = picomatch.scan(pattern);
  if (!scan.isGlob) return pattern.replace(/\/+$/, '');
  return scan.base;
}

/** Components' globs, indexed by base folder, to find the components of a path quickly. */
export class ComponentIndex {
  private readonly byBase = new Map<string, CompiledGroup[]>();

  constructor(components: readonly Selectable[]) {
    for (const c of components) {
      for (const g of c.groups) {
        if (!g.patterns.length) continue;
        const pos = g.patterns.filter((p) => !p.startsWith('!'));
        const compiled = new CompiledGroup(c.name, g.patterns, g.changes ? new Set(g.changes) : null);
        const bases = new Set(pos.length ? pos.map(globBase) : ['']);
        for (const b of bases) (this.byBase.get(b) ?? this.byBase.set(b, []).get(b)!).push(compiled);
      }
    }
  }

  /** The components whose globs match `file` changed as `kind`, in index order. */
  match(file: string, kind: ChangeKind): string[] {
    const out: string[] = [];
    const seen = new Set<string>();
    const test = (groups: CompiledGroup[] | undefined) => {
      if (!groups) return;
      for (const g of groups) {
        if (seen.has(g.component)) continue;
        if (g.changes && !g.changes.has(kind)) continue;
        if (!g.matches(file)) continue;
        seen.add(g.component);
        out.push(g.component);
      }
    };
    test(this.byBase.get(''));
    for (let i = file.indexOf('/'); i >= 0; i = file.indexOf('/', i + 1)) test(this.byBase.get(file.slice(0, i)));
    test(this.byBase.get(file));
    return out;
  }
}
