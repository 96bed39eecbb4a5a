#!/usr/bin/env node
// The `slipway` command: runs the TypeScript sources through tsx so the CLI needs no build step.
import { register } from 'tsx/esm/api';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

register();
const here = path.dirname(fileURLToPath(import.meta.url));
const { main } = await import(path.join(here, '../src/cli/main.ts'));
process.exitCode = await main(process.argv.slice(2));
