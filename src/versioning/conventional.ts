/** Conventional Commits: what a commit message says about the next version. */

/** The release significance of one commit. */
export type BumpLevel = 'major' | 'minor' | 'patch' | 'none';

/** A commit message, read as a Conventional Commit. */
export interface ParsedCommit {
  sha: string;
  type: string;
  scope?: string;
  breaking: boolean;
  /** The description after `type(scope)!: `, or the whole subject when it is not conventional. */
  description: string;
  subject: string;
  /** The pull request number, from `(#12)` or `Merge pull request #12`. */
  pr?: number;
  /** For a revert: the SHA (or subject) of the commit it reverts. */
  reverts?: { sha?: string; subject?: string };
  /** The `BREAKING CHANGE:` footer's text, what the notes tell users to do (as semantic-release shows it). */
  breakingNote?: string;
}

const BREAKING_FOOTER = /^BREAKING[ -]CHANGES?:/m;
const REVERT_SUBJECT = /^Revert "(.+)"\s*$/;
const REVERTS_SHA = /This reverts commit ([0-9a-f]{7,40})/;
const PR_SUFFIX = /\(#(\d+)\)\s*$/;
const MERGE_PR = /^Merge pull request #(\d+)/;
const LINE_BREAK = /[\n\r\u2028\u2029]/;

/**
 * `type(scope)!: description`, read by hand: this runs for every commit of a long range,
 * and the equivalent regular expression with named groups was most of the parse time.
 * Same grammar as /^([A-Za-z]+)(?:\(([^()]*)\))?(!)?:[ \t]*(.+)$/ on a trimmed subject.
 */
function parseHeader(s: string): { type: string; scope: string; bang: boolean; desc: string } | null {
  const n = s.length;
  let i = 0;
  for (; i < n; i++) {
    const ch = s.charCodeAt(i) | 0x20;
    if (ch < 0x61 || ch > 0x7a) break;
  }
  if (i === 0) return null;
  const type = s.slice(0, i);
  let scope = '';
  if (s.charCodeAt(i) === 0x28 /* ( */) {
    const close = s.indexOf(')', i + 1);
    if (close < 0) return null;
    scope = s.slice(i + 1, close);
    if (scope.includes('(')) return null;
    i = close + 1;
  }
  const bang = s.charCodeAt(i) === 0x21; /* ! */
  if (bang) i++;
  if (s.charCodeAt(i) !== 0x3a /* : */) return null;
  i++;
  while (i < n && (s.charCodeAt(i) === 0x20 || s.charCodeAt(i) === 0x09)) i++;
  if (i >= n) return null;
  const desc = s.slice(i);
  if (LINE_BREAK.test(desc)) return null;
  return { type, scope, bang, desc };
}

function prNumber(subject: string): number | undefined {
  // Cheap tests first: most subjects name no pull request.
  if (subject.includes('(#')) {
    const m = PR_SUFFIX.exec(subject);
    if (m) return Number(m[1]);
  }
  if (subject.startsWith('Merge pull request #')) return Number(MERGE_PR.exec(subject)![1]);
  return undefined;
}

function isBreakingBody(body: string): boolean {
  return body.includes('BREAKING') && BREAKING_FOOTER.test(body);
}

/** A trailer line after the breaking footer (`Refs: #12`, `Signed-off-by: …`) ends its text. */
const NEXT_FOOTER = /^[A-Za-z][\w-]*(?:: | #)/;

/** The text of a body's `BREAKING CHANGE:` footer, on one line; undefined when it has none or it is empty. */
function breakingNote(body: string): string | undefined {
  const m = BREAKING_FOOTER.exec(body);
  if (!m) return undefined;
  const lines = body.slice(m.index + m[0].length).split('\n');
  const kept = [lines[0]];
  for (const line of lines.slice(1)) {
    if (!line.trim() || NEXT_FOOTER.test(line)) break;
    kept.push(line);
  }
  const text = kept
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ');
  return text || undefined;
}

/** Parse a commit's subject and body. */
export function parseCommit(sha: string, subject: string, body: string): ParsedCommit {
  const pr = prNumber(subject);
  const revertSubject = subject.startsWith('Revert "') ? REVERT_SUBJECT.exec(subject) : null;
  if (revertSubject) {
    const sha2 = REVERTS_SHA.exec(body)?.[1];
    return {
      sha,
      type: 'revert',
      breaking: false,
      description: subject,
      subject,
      pr,
      reverts: { sha: sha2, subject: revertSubject[1] },
    };
  }
  const h = parseHeader(subject.trim());
  const footer = isBreakingBody(body);
  const note = footer ? breakingNote(body) : undefined;
  if (!h)
    return {
      sha,
      type: '',
      breaking: footer,
      description: subject,
      subject,
      pr,
      ...(note ? { breakingNote: note } : {}),
    };
  const type = h.type.toLowerCase();
  const parsed: ParsedCommit = {
    sha,
    type,
    scope: h.scope || undefined,
    breaking: h.bang || footer,
    description: h.desc.trim(),
    subject,
    pr,
    ...(note ? { breakingNote: note } : {}),
  };
  if (type === 'revert') {
    const sha2 = REVERTS_SHA.exec(body)?.[1];
    parsed.reverts = { sha: sha2, subject: h.desc.trim() };
  }
  return parsed;
}

/** The bump one commit asks for, ignoring revert pairing. */
function commitBump(c: ParsedCommit): BumpLevel {
  if (c.breaking) return 'major';
  switch (c.type) {
    case 'feat':
      return 'minor';
    case 'fix':
    case 'perf':
    case 'revert':
      return 'patch';
    default:
      return 'none';
  }
}

const ORDER: BumpLevel[] = ['none', 'patch', 'minor', 'major'];

/**
 * Drop every revert whose reverted commit is also in the list, and that commit too: the
 * pair cancels out. A revert of something outside the range stays (a patch).
 */
export function cancelReverts(commits: ParsedCommit[]): ParsedCommit[] {
  if (!commits.some((c) => c.reverts)) return commits;
  const dropped = new Set<string>();
  for (const c of commits) {
    if (!c.reverts || dropped.has(c.sha)) continue;
    const target = commits.find(
      (o) =>
        o !== c &&
        !dropped.has(o.sha) &&
        ((c.reverts!.sha && o.sha.startsWith(c.reverts!.sha)) || (!c.reverts!.sha && c.reverts!.subject === o.subject)),
    );
    if (target) {
      dropped.add(c.sha);
      dropped.add(target.sha);
    }
  }
  return commits.filter((c) => !dropped.has(c.sha));
}

/** The bump a set of commits asks for, and the commits that decided it. */
export function decideBump(
  commits: ParsedCommit[],
  currentMajor: number,
): { bump: BumpLevel; deciding: ParsedCommit[] } {
  let bump: BumpLevel = 'none';
  let deciding: ParsedCommit[] = [];
  for (const c of cancelReverts(commits)) {
    let b = commitBump(c);
    // Below 1.0.0 a breaking change is a minor bump: 0.x is the unstable series.
    if (b === 'major' && currentMajor === 0) b = 'minor';
    if (b === 'none') continue;
    if (ORDER.indexOf(b) > ORDER.indexOf(bump)) {
      bump = b;
      deciding = [c];
    } else if (b === bump) deciding.push(c);
  }
  return { bump, deciding };
}
