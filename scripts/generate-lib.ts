/** Rendering of action.yml files and README tables from action definitions. */
import type { ActionDefinition, InputFields } from '../src/core/inputs.js';

const BEGIN = '<!-- BEGIN GENERATED: npm run generate -->';
const END = '<!-- END GENERATED -->';

function quote(s: string): string {
  return JSON.stringify(s);
}

/** The action.yml of one action; the root one (`main`) points at dist/ directly. */
export function renderActionYaml(
  action: ActionDefinition<InputFields>,
  main = `../../dist/${action.name}/index.js`,
): string {
  const lines = [
    '# Generated from src/ by `npm run generate`; edit the action definition, not this file.',
    `name: ${quote(`Slipway ${action.name}`)}`,
    `description: ${quote(action.description)}`,
    'author: Slipway',
    'branding:',
    '  icon: anchor',
    '  color: blue',
    'inputs:',
  ];
  for (const [name, f] of Object.entries(action.inputs)) {
    lines.push(
      `  ${name}:`,
      `    description: ${quote(f.description)}`,
      `    required: ${f.required ? 'true' : 'false'}`,
    );
    if (f.default !== undefined) lines.push(`    default: ${quote(f.default)}`);
  }
  lines.push('outputs:');
  for (const [name, d] of Object.entries(action.outputs)) lines.push(`  ${name}:`, `    description: ${quote(d)}`);
  lines.push('runs:', '  using: node24', `  main: ${main}`, '');
  return lines.join('\n');
}

const esc = (s: string) => s.replace(/\|/g, '\\|');

/** The README block: one section per action with its inputs and outputs. */
export function renderReadmeTables(actions: ActionDefinition<InputFields>[]): string {
  const out: string[] = [];
  for (const a of actions) {
    const uses = a.name === 'pipeline' ? 'slipway-actions/slipway@v1' : `slipway-actions/slipway/actions/${a.name}@v1`;
    out.push(
      `### ${a.name === 'pipeline' ? 'pipeline (the root action)' : a.name}`,
      '',
      a.description,
      '',
      `\`uses: ${uses}\``,
      '',
    );
    out.push('| input | default | description |', '| --- | --- | --- |');
    for (const [name, f] of Object.entries(a.inputs)) {
      out.push(
        `| \`${name}\` | ${f.required ? '**required**' : f.default ? `\`${esc(f.default)}\`` : ''} | ${esc(f.description)} |`,
      );
    }
    out.push('', '| output | description |', '| --- | --- |');
    for (const [name, d] of Object.entries(a.outputs)) out.push(`| \`${name}\` | ${esc(d)} |`);
    out.push('');
  }
  return out.join('\n');
}

/** Put `block` between the generated markers of `text`. */
export function replaceGenerated(text: string, block: string): string {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md lacks the markers ${BEGIN} … ${END}`);
  return `${text.slice(0, start + BEGIN.length)}\n\n${block}\n${text.slice(end)}`;
}
