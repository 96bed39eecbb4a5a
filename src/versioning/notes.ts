/** Release notes: commits grouped by change type, as markdown. */
import type { ParsedCommit } from './conventional.js';
import { cancelReverts } from './conventional.js';

/** The headings, in the order they appear. */
const NOTE_GROUPS = ['Breaking changes', 'Features', 'Fixes', 'Performance', 'Other'] as const;

/** The heading a commit belongs under. */
function noteGroup(c: ParsedCommit): (typeof NOTE_GROUPS)[number] {
  if (c.breaking) return 'Breaking changes';
  if (c.type === 'feat') return 'Features';
  if (c.type === 'fix' || c.type === 'revert') return 'Fixes';
  if (c.type === 'perf') return 'Performance';
  return 'Other';
}

/** One note line: `- **scope:** description (abc1234, #12)`, a breaking change's footer text under it. */
function noteLine(c: ParsedCommit): string {
  const line = commitLine(c);
  return c.breaking && c.breakingNote ? `${line}\n  ${c.breakingNote}` : line;
}

function commitLine(c: ParsedCommit): string {
  const sha = c.sha.slice(0, 7);
  const raw = c.type ? c.description : c.subject;
  // Only a subject that named a pull request can end with "(#12)".
  if (c.pr === undefined) return c.scope ? `- **${c.scope}:** ${raw} (${sha})` : `- ${raw} (${sha})`;
  const text = raw.replace(/\s*\(#\d+\)\s*$/, '');
  return `- ${c.scope ? `**${c.scope}:** ` : ''}${text} (${sha}, #${c.pr})`;
}

const MERGE = /^Merge (pull request|branch|remote-tracking)/;

/** Commits listed in notes at most: GitHub takes an output of 1 MB, a release body of 125,000 characters. */
export const NOTES_MAX_COMMITS = 500;
/** Characters of notes at most, for the same reason. */
const NOTES_MAX_CHARS = 60_000;

/**
 * The grouped notes of `commits` (newest first), merge commits left out, and reverted
 * pairs dropped. Empty groups are omitted; no commit at all gives a one-line note. At most
 * NOTES_MAX_COMMITS commits and NOTES_MAX_CHARS characters are listed, the newest first;
 * the notes then end by saying how many were left out (with `unread`, commits never read).
 */
export function renderNotes(
  commits: ParsedCommit[],
  options: { headingLevel?: number; unread?: number; maxCommits?: number; maxChars?: number } = {},
): string {
  const hashes = '#'.repeat(options.headingLevel ?? 3);
  const maxCommits = options.maxCommits ?? NOTES_MAX_COMMITS;
  const maxChars = options.maxChars ?? NOTES_MAX_CHARS;
  const groups = new Map<string, string[]>(NOTE_GROUPS.map((g) => [g, []]));
  let kept = 0;
  let left = options.unread ?? 0;
  let chars = 0;
  for (const c of cancelReverts(commits)) {
    if (c.subject.startsWith('Merge ') && MERGE.test(c.subject)) continue;
    const line = noteLine(c);
    if (kept >= maxCommits || chars + line.length + 1 > maxChars) {
      left++;
      continue;
    }
    groups.get(noteGroup(c))!.push(line);
    chars += line.length + 1;
    kept++;
  }
  if (!kept && !left) return '_No changes._';
  const sections: string[] = [];
  for (const group of NOTE_GROUPS) {
    const lines = groups.get(group)!;
    if (lines.length) sections.push(`${hashes} ${group}\n\n${lines.join('\n')}`);
  }
  if (left) sections.push(`_${left} older commit${left === 1 ? ' is' : 's are'} not listed._`);
  return sections.join('\n\n');
}
