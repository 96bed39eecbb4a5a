#!/usr/bin/env node
// Build one ncc bundle per action into dist/<name>/, and the CLI into dist/cli/ (committed;
// CI checks they are current). Usage: npm run bundle [-- name ...]   (no names: all of them)
// No source maps: a map is one line of several MB, so every rebuild rewrote ~20 MB of
// committed text for nothing a user sees (errors are one line, never a stack). The bundles
// stay unminified, so a stack in a debug log still reads.
import { spawn } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';

const actions = readdirSync('src/actions')
  .filter((f) => f.endsWith('.ts') && f !== 'github-runtime.ts')
  .map((f) => f.replace(/\.ts$/, ''));
const all = [...actions, 'cli'];
/** The entry of a bundle: an action's entry point, or the CLI's. */
const entryOf = (name) => (name === 'cli' ? 'src/cli/bin.ts' : `src/actions/${name}.ts`);
// The embedded database (PGlite: WebAssembly and data files ncc cannot follow) stays a
// dependency the CLI loads from node_modules; the actions never load it.
const externals = (name) => (name === 'cli' ? ['-e', '@electric-sql/pglite'] : []);
const names = process.argv.slice(2).length ? process.argv.slice(2) : all;
for (const name of names) {
  if (!all.includes(name)) {
    console.error(`bundle: no bundle named ${name} (expected one of: ${all.join(', ')})`);
    process.exit(1);
  }
}
// --transpile-only: npm run typecheck has checked the types, and ncc checking them again for
// each bundle took most of its time (the bundles are byte for byte the same; see tsconfig.json).
// One ncc per core: each is mostly one thread (webpack and TypeScript's checker), and one
// after another the eight bundles took three minutes of CI. Each writes its own folder, so
// the output is the same in any order.
const queue = [...names];
const worker = async () => {
  for (let name = queue.shift(); name; name = queue.shift()) await bundle(name);
};
try {
  await Promise.all(Array.from({ length: Math.min(availableParallelism(), names.length) }, worker));
} catch (err) {
  console.error(`bundle: ${err.message}`);
  process.exit(1);
}

/** Build dist/<name>/ with ncc. */
async function bundle(name) {
  rmSync(`dist/${name}`, { recursive: true, force: true });
  const code = await new Promise((resolve, reject) => {
    const child = spawn(
      'npx',
      [
        'ncc',
        'build',
        entryOf(name),
        '-o',
        `dist/${name}`,
        ...externals(name),
        '--license',
        'licenses.txt',
        '--quiet',
        '--transpile-only',
      ],
      { stdio: 'inherit' },
    );
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`ncc failed for ${name} (exit ${code})`);
  copyParserWasm(`dist/${name}`);
  console.log(`bundled dist/${name}/index.js`);
}

/**
 * PostgreSQL's parser (libpg-query) is WebAssembly that its loader reads from a file next to
 * the script; ncc does not see that read, so a bundle that contains the loader gets the file
 * copied beside it (src/migrations/pg-parser.ts points the loader there).
 */
function copyParserWasm(dir) {
  const wasm = 'libpg-query.wasm';
  const uses = readdirSync(dir).some(
    (f) => f.endsWith('.js') && readFileSync(path.join(dir, f), 'utf8').includes(wasm),
  );
  if (!uses) return;
  const source = createRequire(import.meta.url).resolve(`libpg-query/wasm/${wasm}`);
  copyFileSync(source, path.join(dir, wasm));
}
