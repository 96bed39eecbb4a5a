// `npm run lint`: no import cycle in src/. A cycle makes module order decide what is
// initialised when (a value read before its module ran is undefined), and it is where layers
// start to leak into each other. Only value imports count: `import type` is erased.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve('src');
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.ts')) files.push(p);
  }
};
walk(root);

const IMPORT = /^\s*(import|export)\s+(?!type\b)[^;]*?\sfrom\s+'(\.{1,2}\/[^']+)'|^\s*import\s+'(\.{1,2}\/[^']+)'/gm;
const graph = new Map();
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const deps = new Set();
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[2] ?? m[3];
    // `import { type A, type B } from` imports nothing at run time either.
    if (m[0].match(/\{([^}]*)\}/)?.[1].split(',').every((s) => /^\s*type\s/.test(s) || !s.trim())) continue;
    deps.add(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
  }
  graph.set(file, [...deps].filter((d) => graph.has(d) || files.includes(d)));
}

const cycles = [];
const state = new Map(); // 1: on the stack, 2: done
const stack = [];
const visit = (file) => {
  state.set(file, 1);
  stack.push(file);
  for (const dep of graph.get(file) ?? []) {
    if (state.get(dep) === 1) cycles.push([...stack.slice(stack.indexOf(dep)), dep]);
    else if (!state.has(dep)) visit(dep);
  }
  stack.pop();
  state.set(file, 2);
};
for (const file of files) if (!state.has(file)) visit(file);

if (cycles.length) {
  for (const c of cycles) console.error(`import cycle: ${c.map((f) => path.relative(process.cwd(), f)).join(' → ')}`);
  process.exit(1);
}
console.log(`imports: no cycle among ${files.length} modules of src/`);
