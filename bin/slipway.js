#!/usr/bin/env node
// The `slipway` command: the CLI bundled by `npm run bundle` into dist/cli (checked in CI like
// the actions' bundles), so it starts without compiling anything.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const bundle = path.join(path.dirname(fileURLToPath(import.meta.url)), '../dist/cli/index.js');
if (!existsSync(bundle)) {
  console.error('error: dist/cli/index.js is missing: run npm run bundle -- cli (or npm run slipway -- … from source)');
  process.exit(1);
}
await import(pathToFileURL(bundle).href);
