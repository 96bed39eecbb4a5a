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

/** Characters, as prettier counts a cell's width (the tables hold no wide or combining ones). */
const width = (s: string) => [...s].length;

/** A markdown table padded as prettier pads it, so `prettier --check README.md` passes. */
export function markdownTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(3, width(h), ...rows.map((r) => width(r[i]))));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c + ' '.repeat(widths[i] - width(c))).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

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
    const inputs = Object.entries(a.inputs).map(([name, f]) => [
      `\`${name}\``,
      f.required ? '**required**' : f.default ? `\`${esc(f.default)}\`` : '',
      esc(f.description),
    ]);
    out.push(...markdownTable(['input', 'default', 'description'], inputs));
    const outputs = Object.entries(a.outputs).map(([name, d]) => [`\`${name}\``, esc(d)]);
    out.push('', ...markdownTable(['output', 'description'], outputs), '');
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
