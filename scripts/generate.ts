/**
 * Writes actions/<name>/action.yml and the README's input/output tables from the action
 * definitions in src/, so the three never disagree. `npm run generate`; a test fails when
 * the committed files differ from what this would write.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { renderActionYaml, renderReadmeTables, replaceGenerated } from './generate-lib.js';
import { ACTIONS } from '../src/registry.js';

for (const action of ACTIONS) {
  mkdirSync(`actions/${action.name}`, { recursive: true });
  writeFileSync(`actions/${action.name}/action.yml`, renderActionYaml(action));
}
const readme = readFileSync('README.md', 'utf8');
writeFileSync('README.md', replaceGenerated(readme, renderReadmeTables(ACTIONS)));
console.log(`generated ${ACTIONS.length} action.yml files and the README tables`);
