import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as prettier from 'prettier';
import { parse } from 'yaml';
import { ACTIONS } from '../src/registry.js';
import type { ActionDefinition, InputFields } from '../src/core/inputs.js';
import { pipelineAction } from '../src/pipeline/pipeline-action.js';
import { renderActionYaml, renderReadmeTables } from '../scripts/generate-lib.js';
import { ROOT } from './helpers/run-action.js';

describe('action.yml files and the README agree with the action definitions', () => {
  it.each(ACTIONS.map((a) => [a.name, a] as const))('%s', (name, action) => {
    const file = path.join(ROOT, 'actions', name, 'action.yml');
    const committed = readFileSync(file, 'utf8');
    expect(committed).toBe(renderActionYaml(action));
    const yml = parse(committed);
    expect(Object.keys(yml.inputs)).toEqual(Object.keys(action.inputs));
    for (const [input, field] of Object.entries(action.inputs)) {
      expect(yml.inputs[input].required).toBe(Boolean(field.required));
      expect(yml.inputs[input].default).toBe(field.default);
      // The default must pass the input's own schema, or the action would reject its own default.
      if (field.default !== undefined && !field.required)
        expect(field.schema.safeParse(field.default).success).toBe(true);
    }
    expect(Object.keys(yml.outputs)).toEqual(Object.keys(action.outputs));
    expect(yml.runs).toEqual({ using: 'node24', main: `../../dist/${name}/index.js` });
    expect(existsSync(path.join(ROOT, 'dist', name, 'index.js'))).toBe(true);
  });

  it('every actions/ folder is a registered action', () => {
    const folders = readdirSync(path.join(ROOT, 'actions')).sort();
    expect(folders).toEqual(ACTIONS.map((a) => a.name).sort());
  });

  it('the root action.yml runs the pipeline', () => {
    const root = pipelineAction as unknown as ActionDefinition<InputFields>;
    expect(readFileSync(path.join(ROOT, 'action.yml'), 'utf8')).toBe(renderActionYaml(root, 'dist/pipeline/index.js'));
    expect(existsSync(path.join(ROOT, 'dist/pipeline/index.js'))).toBe(true);
  });

  it('the generated tables are laid out as prettier lays them out, so the README passes prettier --check', async () => {
    const block = renderReadmeTables([pipelineAction as unknown as ActionDefinition<InputFields>, ...ACTIONS]);
    const options = await prettier.resolveConfig(path.join(ROOT, 'README.md'));
    expect(await prettier.format(block, { ...options, parser: 'markdown' })).toBe(`${block.trimEnd()}\n`);
  });

  it('the README has the generated tables', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(
      renderReadmeTables([pipelineAction as unknown as ActionDefinition<InputFields>, ...ACTIONS]),
    );
  });
});
