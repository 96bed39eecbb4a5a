#!/usr/bin/env node
// `npm run lint` part three: package-lock.json must be one that `npm ci` accepts on any platform.
// npm 11, when it rewrites the lock from an installed node_modules, can drop the entries of
// optional packages for other platforms (turbo's and unrs-resolver's binaries); `npm ci`
// then refuses the file as out of sync, and the README's quick start fails on a fresh clone.
// Fix a flagged lock with `npm install --package-lock-only` (it adds the entries and moves no
// locked version).
import { readFileSync } from 'node:fs';

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const packages = lock.packages ?? {};
const missing = [];
for (const [path, entry] of Object.entries(packages)) {
  for (const dep of Object.keys(entry.optionalDependencies ?? {})) {
    // npm resolves a dependency from the nearest node_modules up the tree.
    const candidates = [];
    let base = path;
    for (;;) {
      candidates.push(`${base ? `${base}/` : ''}node_modules/${dep}`);
      const cut = base.lastIndexOf('/node_modules/');
      if (cut >= 0) base = base.slice(0, cut);
      else if (base) base = '';
      else break;
    }
    if (!candidates.some((c) => c in packages)) missing.push(`${dep} (optional dependency of ${path || 'the root'})`);
  }
}
if (missing.length) {
  console.error(
    `package-lock.json: ${missing.length} optional package(s) have no entry, so npm ci refuses the lock: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}. Run npm install --package-lock-only and commit the lock.`,
  );
  process.exit(1);
}
console.log(`package-lock.json: every optional package has an entry (${Object.keys(packages).length} packages)`);
