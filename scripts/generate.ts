/**
 * Writes actions/<name>/action.yml and the README's input/output tables from the action
 * definitions in src/, so the three never disagree. `npm run generate`; a test fails when
 * the committed files differ from what this would write.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { renderActionYaml, renderReadmeTables, replaceGenerated } from './generate-lib.js';
import { ACTIONS } from '../src/registry.js';
import { pipelineAction } from '../src/pipeline/pipeline-action.js';
import type { ActionDefinition, InputFields } from '../src/core/inputs.js';

const root = pipelineAction as unknown as ActionDefinition<InputFields>;

for (const action of ACTIONS) {
  mkdirSync(`actions/${action.name}`, { recursive: true });
  writeFileSync(`actions/${action.name}/action.yml`, renderActionYaml(action));
}
writeFileSync('action.yml', renderActionYaml(root, 'dist/pipeline/index.js'));
const readme = readFileSync('README.md', 'utf8');
writeFileSync('README.md', replaceGenerated(readme, renderReadmeTables([root, ...ACTIONS])));
console.log(`generated ${ACTIONS.length} action.yml files and the README tables`);
