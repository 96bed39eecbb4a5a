/** The `dependsOn` graph: cycles, waves in topological order, and dependents. */

/** name → the names it depends on. */
export type DependencyMap = Record<string, readonly string[]>;

/** A cycle as a path that returns to its start (a → b → a), or null when there is none. */
export function findCycle(deps: DependencyMap): string[] | null {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | null => {
    state.set(n, 'visiting');
    stack.push(n);
    for (const d of deps[n] ?? []) {
      if (!(d in deps)) continue;
      const s = state.get(d);
      if (s === 'visiting') return [...stack.slice(stack.indexOf(d)), d];
      if (!s) {
        const c = visit(d);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 'done');
    return null;
  };
  for (const n of Object.keys(deps)) {
    if (!state.has(n)) {
      const c = visit(n);
      if (c) return c;
    }
  }
  return null;
}

/**
 * Group `deps`' nodes into waves: every node comes after all it depends on; nodes of
 * one wave have no path between them. Ties keep the declaration order. Assumes no cycle.
 */
export function waves(deps: DependencyMap): string[][] {
  const names = Object.keys(deps);
  const level = new Map<string, number>();
  const depth = (n: string, seen = new Set<string>()): number => {
    const known = level.get(n);
    if (known !== undefined) return known;
    if (seen.has(n)) throw new Error(`dependency cycle through ${n}`);
    seen.add(n);
    let l = 0;
    for (const d of deps[n] ?? []) if (d in deps) l = Math.max(l, depth(d, seen) + 1);
    level.set(n, l);
    return l;
  };
  const out: string[][] = [];
  for (const n of names) {
    const l = depth(n);
    (out[l] ??= []).push(n);
  }
  return out.filter((w) => w && w.length > 0);
}

/** All nodes in topological order (waves flattened). */
export function topologicalOrder(deps: DependencyMap): string[] {
  return waves(deps).flat();
}

/** `roots` and every node that depends on one of them, directly or transitively. */
export function withDependents(deps: DependencyMap, roots: Iterable<string>): Set<string> {
  const reverse = new Map<string, string[]>();
  for (const [n, ds] of Object.entries(deps))
    for (const d of ds) (reverse.get(d) ?? reverse.set(d, []).get(d)!).push(n);
  const out = new Set<string>();
  const queue = [...roots];
  while (queue.length) {
    const n = queue.shift()!;
    if (out.has(n)) continue;
    out.add(n);
    queue.push(...(reverse.get(n) ?? []));
  }
  return out;
}

/** A Mermaid flowchart of the graph, highlighting `selected` nodes. */
export function mermaid(deps: DependencyMap, selected?: ReadonlySet<string>): string {
  const id = (n: string) => n.replace(/[^A-Za-z0-9_]/g, '_');
  const lines = ['```mermaid', 'flowchart LR'];
  for (const n of Object.keys(deps)) lines.push(`  ${id(n)}["${n}"]`);
  for (const [n, ds] of Object.entries(deps)) for (const d of ds) if (d in deps) lines.push(`  ${id(d)} --> ${id(n)}`);
  if (selected && selected.size) {
    lines.push('  classDef selected fill:#d1f7c4,stroke:#2b8a3e');
    lines.push(`  class ${[...selected].map(id).join(',')} selected`);
  }
  lines.push('```');
  return lines.join('\n');
}
