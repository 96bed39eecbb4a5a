/** The job summary of build-selective: each component with why it was selected, and the graph. */
import { mermaid } from '../core/graph.js';
import { table } from '../core/markdown.js';
import type { BuildOutcome } from './build.js';
import type { Reason, Selection } from './select.js';

const MAX_ROWS = 200;
/** Past this many components the graph only shows the selection, or it would not render. */
const MAX_GRAPH = 60;

/** How a control character in a file name is shown (git's own escapes). */
const CONTROL: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `text` as a Markdown code span: fenced with one backtick more than its longest run of them,
 * and padded when it starts or ends with one, so a file named with a backtick stays one span.
 */
function codeSpan(raw: string): string {
  // A file name may hold a newline: shown escaped, as git shows it, it stays one line.
  const text = raw.replace(
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    /[\x00-\x1f\x7f]/g,
    (c) => CONTROL[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** One line saying why a component was selected. */
export function describeReason(r: Reason): string {
  if (r.kind === 'all') return r.why;
  if (r.kind === 'dependency') return `depends on ${r.via}`;
  if (r.kind === 'policy') return r.keys.length ? `its ${r.keys.join(', ')} in ${r.file} changed` : `new in ${r.file}`;
  const first = r.files.slice(0, 2).map(codeSpan);
  return `${first.join(', ')}${r.files.length > 2 ? ` and ${r.files.length - 2} more` : ''} changed`;
}

/** The summary markdown. */
export function selectionSummary(args: {
  rule: string;
  base: string | null;
  head: string;
  selection: Selection;
  deps: Record<string, string[]>;
  hashes: Record<string, string>;
  outcome: BuildOutcome | null;
  dryRun: boolean;
  /** Selected components without a build command: a dry run would build nothing for them either. */
  commandless: readonly string[];
  total: number;
}): string {
  const { selection, outcome } = args;
  const state = (n: string) => {
    if (!outcome) return args.dryRun ? (args.commandless.includes(n) ? 'no build command' : 'would build') : '—';
    if (outcome.skipped[n]) return 'cached, skipped';
    if (outcome.built.includes(n)) return 'built';
    if (outcome.nothingToRun.includes(n)) return 'no build command';
    if (outcome.failures[n]) return 'failed';
    return '—';
  };
  const rows = selection.changed
    .slice(0, MAX_ROWS)
    .map((n) => [
      n,
      describeReason(selection.reasons[n]),
      args.hashes[n] ? `\`${args.hashes[n].slice(0, 12)}\`` : '',
      state(n),
    ]);
  const lines = [
    `## Selective build${args.dryRun ? ' (dry run)' : ''}`,
    '',
    `${selection.changed.length} of ${args.total} components selected. Base: ${args.base ? `\`${args.base.slice(0, 7)}\`` : 'none'} → \`${args.head.slice(0, 7)}\` (${args.rule}).`,
    '',
  ];
  if (rows.length) {
    lines.push(table(['component', 'selected because', 'content hash', 'build'], rows));
    if (selection.changed.length > MAX_ROWS) lines.push('', `… and ${selection.changed.length - MAX_ROWS} more.`);
  }
  const selected = new Set(selection.changed);
  const shown =
    Object.keys(args.deps).length <= MAX_GRAPH
      ? args.deps
      : Object.fromEntries(
          selection.changed.slice(0, MAX_GRAPH).map((n) => [n, args.deps[n].filter((d) => selected.has(d))]),
        );
  if (Object.keys(shown).length) lines.push('', mermaid(shown, selected));
  lines.push('');
  return lines.join('\n');
}
