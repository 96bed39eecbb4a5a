#!/usr/bin/env node
// Build one ncc bundle per action into dist/<name>/ (committed; CI checks they are current).
// Usage: npm run bundle [-- name ...]   (no names: every action in src/actions/)
// No source maps: a map is one line of several MB, so every rebuild rewrote ~20 MB of
// committed text for nothing a user sees (errors are one line, never a stack). The bundles
// stay unminified, so a stack in a debug log still reads.
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';

const all = readdirSync('src/actions')
  .filter((f) => f.endsWith('.ts') && f !== 'github-runtime.ts')
  .map((f) => f.replace(/\.ts$/, ''));
const names = process.argv.slice(2).length ? process.argv.slice(2) : all;
for (const name of names) {
  if (!all.includes(name)) {
    console.error(`bundle: no entry point src/actions/${name}.ts (expected one of: ${all.join(', ')})`);
    process.exit(1);
  }
  rmSync(`dist/${name}`, { recursive: true, force: true });
  execFileSync(
    'npx',
    [
      'ncc',
      'build',
      `src/actions/${name}.ts`,
      '-o',
      `dist/${name}`,
      '--license',
      'licenses.txt',
      '--quiet',
    ],
    {
      stdio: 'inherit',
    },
  );
  console.log(`bundled dist/${name}/index.js`);
}
