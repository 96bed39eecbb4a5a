/** Release notes: commits grouped by change type, as markdown. */
import type { ParsedCommit } from './conventional.js';
import { cancelReverts } from './conventional.js';

/** The headings, in the order they appear. */
export const NOTE_GROUPS = ['Breaking changes', 'Features', 'Fixes', 'Performance', 'Other'] as const;

/** The heading a commit belongs under. */
export function noteGroup(c: ParsedCommit): (typeof NOTE_GROUPS)[number] {
  if (c.breaking) return 'Breaking changes';
  if (c.type === 'feat') return 'Features';
  if (c.type === 'fix' || c.type === 'revert') return 'Fixes';
  if (c.type === 'perf') return 'Performance';
  return 'Other';
}

/** One note line: `- **scope:** description (abc1234, #12)`. */
export function noteLine(c: ParsedCommit): string {
  const refs = [c.sha.slice(0, 7), ...(c.pr ? [`#${c.pr}`] : [])].join(', ');
  const scope = c.scope ? `**${c.scope}:** ` : '';
  const raw = c.type ? c.description : c.subject;
  // Only a subject that named a pull request can end with "(#12)".
  const text = c.pr === undefined ? raw : raw.replace(/\s*\(#\d+\)\s*$/, '');
  return `- ${scope}${text} (${refs})`;
}

/**
 * The grouped notes of `commits` (newest first), merge commits left out, and reverted
 * pairs dropped. Empty groups are omitted; no commit at all gives a one-line note.
 */
export function renderNotes(commits: ParsedCommit[], options: { headingLevel?: number } = {}): string {
  const hashes = '#'.repeat(options.headingLevel ?? 3);
  const kept = cancelReverts(commits).filter(
    (c) => !(c.subject.startsWith('Merge ') && /^Merge (pull request|branch|remote-tracking)/.test(c.subject)),
  );
  if (!kept.length) return '_No changes._';
  const groups = new Map<string, string[]>();
  for (const c of kept) {
    const g = noteGroup(c);
    (groups.get(g) ?? groups.set(g, []).get(g)!).push(noteLine(c));
  }
  const sections: string[] = [];
  for (const group of NOTE_GROUPS) {
    const lines = groups.get(group);
    if (lines) sections.push(`${hashes} ${group}\n\n${lines.join('\n')}`);
  }
  return sections.join('\n\n');
}
