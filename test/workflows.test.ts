import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { parseConfig } from '../src/core/config.js';
import {
  actionFiles,
  actionlint,
  actionParserErrors,
  parserErrors,
  policyErrors,
  workflowFiles,
} from '../scripts/workflow-checks.js';
import { ROOT } from './helpers/run-action.js';

describe('workflows and action.yml files', () => {
  it.each(workflowFiles(ROOT))('%s passes GitHub’s parser and Slipway’s rules', (file) => {
    expect(parserErrors(ROOT, file)).toEqual([]);
    expect(policyErrors(ROOT, file)).toEqual([]);
  });

  it.each(actionFiles(ROOT))('%s passes GitHub’s action parser', (file) => {
    expect(actionParserErrors(ROOT, file)).toEqual([]);
  });

  it('passes actionlint', () => {
    expect(actionlint(ROOT)).toEqual([]);
  });

  it('the example policy file is valid', () => {
    const config = parseConfig(readFileSync(path.join(ROOT, 'examples/slipway.yml'), 'utf8'), 'examples/slipway.yml');
    expect(Object.keys(config.components)).toContain('backend');
  });
});

describe('the workflow checks catch mistakes', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-wf-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, '.github/workflows'), { recursive: true });
  cpSync(path.join(ROOT, 'actions'), path.join(dir, 'actions'), { recursive: true });
  writeFileSync(
    path.join(dir, '.github/workflows/bad.yml'),
    [
      'on: push',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - uses: actions/checkout@v4',
      '      - uses: slipway-actions/slipway/actions/version-bump@v1',
      '        with: { bumpp: major }',
      '      - run: echo ${{ github.nope }}',
      '',
    ].join('\n'),
  );

  it('flags unpinned actions, missing permissions and unknown inputs', () => {
    expect(policyErrors(dir, '.github/workflows/bad.yml')).toEqual([
      '.github/workflows/bad.yml: no top-level permissions (set the least the jobs need)',
      '.github/workflows/bad.yml: job a: actions/checkout@v4 is not pinned by commit SHA',
      '.github/workflows/bad.yml: job a: version-bump has no input "bumpp"',
    ]);
  });

  it('runs actionlint for real', () => {
    const findings = actionlint(dir).join('\n');
    expect(findings).toContain('property "nope" is not defined');
  });

  it('runs GitHub’s parser for real', () => {
    writeFileSync(
      path.join(dir, '.github/workflows/broken.yml'),
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n',
    );
    expect(parserErrors(dir, '.github/workflows/broken.yml').join('\n')).toMatch(/stepz/);
  });
});
