/**
 * From changed files to the components to build: a component whose globs match a changed
 * path is selected, then everything that depends on it, transitively; the result is in
 * dependency order with the reason for each.
 */
import type { FileChange } from '../core/git.js';
import { topologicalOrder } from '../core/graph.js';
import { ComponentIndex, type ChangedPath, type Selectable } from './patterns.js';

/** Why a component was selected. */
export type Reason =
  | { kind: 'files'; files: string[] }
  | { kind: 'dependency'; via: string }
  | { kind: 'all'; why: string }
  /** Its entry in the policy file changed: `keys` are the entry's keys that differ; none for a new component. */
  | { kind: 'policy'; file: string; keys: string[] };

/** The outcome of selection. */
export interface Selection {
  /** Selected names in dependency order. */
  changed: string[];
  reasons: Record<string, Reason>;
  /** Component → its own changed files (empty for one selected through a dependency). */
  files: Record<string, string[]>;
}

/** A diff's entries as paths: a rename counts for both paths, a deletion counts. */
export function changedPaths(changes: readonly FileChange[]): ChangedPath[] {
  const out: ChangedPath[] = [];
  for (const c of changes) {
    if (c.status === 'R') {
      out.push({ path: c.from!, kind: 'deleted' }, { path: c.path, kind: 'added' });
    } else if (c.status === 'C' || c.status === 'A') out.push({ path: c.path, kind: 'added' });
    else if (c.status === 'D') out.push({ path: c.path, kind: 'deleted' });
    else out.push({ path: c.path, kind: 'modified' });
  }
  return out;
}

/** The dependency map of selectable components. */
export function dependencies(components: readonly Selectable[]): Record<string, string[]> {
  return Object.fromEntries(components.map((c) => [c.name, c.dependsOn]));
}

/**
 * Select components touched by `paths`, and those whose policy entry changed (`policy`:
 * component → its reason), plus their dependents.
 */
export function selectByChangedPaths(
  components: readonly Selectable[],
  paths: readonly ChangedPath[],
  policy: Record<string, Reason> = {},
): Selection {
  const index = new ComponentIndex(components);
  const files: Record<string, string[]> = {};
  for (const p of paths) for (const name of index.match(p.path, p.kind)) (files[name] ??= []).push(p.path);
  const reasons: Record<string, Reason> = {};
  for (const [name, list] of Object.entries(files)) reasons[name] = { kind: 'files', files: list };
  // Its own files explain a component best; the policy entry is named when no file of its changed.
  for (const [name, why] of Object.entries(policy)) reasons[name] ??= why;

  const deps = dependencies(components);
  const dependents = new Map<string, string[]>();
  for (const c of components)
    for (const d of c.dependsOn) (dependents.get(d) ?? dependents.set(d, []).get(d)!).push(c.name);
  // Breadth first, so the dependency named for each is the nearest one.
  const queue = Object.keys(reasons);
  while (queue.length) {
    const n = queue.shift()!;
    for (const m of dependents.get(n) ?? []) {
      if (reasons[m]) continue;
      reasons[m] = { kind: 'dependency', via: n };
      queue.push(m);
    }
  }
  const changed = topologicalOrder(deps).filter((n) => reasons[n]);
  const filesOut: Record<string, string[]> = {};
  for (const n of changed) filesOut[n] = files[n] ?? [];
  return { changed, reasons, files: filesOut };
}

/** Select every component, for `all: true` or when history cannot be had. */
export function selectAll(components: readonly Selectable[], why: string): Selection {
  const changed = topologicalOrder(dependencies(components));
  return {
    changed,
    reasons: Object.fromEntries(changed.map((n) => [n, { kind: 'all', why } as Reason])),
    files: Object.fromEntries(changed.map((n) => [n, []])),
  };
}
