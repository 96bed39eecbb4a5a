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

/** How a class of nodes is drawn: its name in the graph and its Mermaid style. */
export interface NodeClass {
  name: string;
  style: string;
}

/**
 * A node's label inside `["…"]`: Mermaid's entity codes for what would end the string or
 * be read as markup, so any name draws as written.
 */
function mermaidLabel(text: string): string {
  return text.replace(/[#"<>&\\`]/g, (c) => `#${c.codePointAt(0)};`).replace(/[\r\n]+/g, ' ');
}

/**
 * A Mermaid flowchart of the graph. Node ids are `n0`, `n1`, … in declaration order, so a
 * component named `end`, `class` or `graph` (keywords) draws, and `web-app`, `web.app` and
 * `web_app` stay three nodes; the name is the label. `classOf` puts a node in a class.
 */
export function mermaidGraph(
  deps: DependencyMap,
  options: { classOf?: (node: string) => NodeClass | undefined } = {},
): string {
  const names = Object.keys(deps);
  const ids = new Map(names.map((n, i) => [n, `n${i}`]));
  const lines = ['```mermaid', 'flowchart LR'];
  for (const n of names) lines.push(`  ${ids.get(n)}["${mermaidLabel(n)}"]`);
  for (const [n, ds] of Object.entries(deps))
    for (const d of ds) if (ids.has(d)) lines.push(`  ${ids.get(d)} --> ${ids.get(n)}`);
  const members = new Map<string, { style: string; nodes: string[] }>();
  for (const n of names) {
    const c = options.classOf?.(n);
    if (!c) continue;
    const m = members.get(c.name) ?? members.set(c.name, { style: c.style, nodes: [] }).get(c.name)!;
    m.nodes.push(ids.get(n)!);
  }
  for (const [name, m] of members) {
    lines.push(`  classDef ${name} ${m.style}`);
    lines.push(`  class ${m.nodes.join(',')} ${name}`);
  }
  lines.push('```');
  return lines.join('\n');
}

const SELECTED: NodeClass = { name: 'selected', style: 'fill:#d1f7c4,stroke:#2b8a3e' };

/** A Mermaid flowchart of the graph, highlighting `selected` nodes. */
export function mermaid(deps: DependencyMap, selected?: ReadonlySet<string>): string {
  return mermaidGraph(deps, { classOf: (n) => (selected?.has(n) ? SELECTED : undefined) });
}
