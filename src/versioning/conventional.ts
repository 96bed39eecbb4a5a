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
}

const HEADER = /^(?<type>[A-Za-z]+)(?:\((?<scope>[^()]*)\))?(?<bang>!)?:[ \t]*(?<desc>.+)$/;
const BREAKING_FOOTER = /^BREAKING[ -]CHANGES?:/m;
const REVERT_SUBJECT = /^Revert "(?<subject>.+)"\s*$/;
const REVERTS_SHA = /This reverts commit (?<sha>[0-9a-f]{7,40})/;
const PR_SUFFIX = /\(#(?<n>\d+)\)\s*$/;
const MERGE_PR = /^Merge pull request #(?<n>\d+)/;

/** Parse a commit's subject and body. */
export function parseCommit(sha: string, subject: string, body: string): ParsedCommit {
  const prMatch = PR_SUFFIX.exec(subject) ?? MERGE_PR.exec(subject);
  const pr = prMatch ? Number(prMatch.groups!.n) : undefined;
  const revertSubject = REVERT_SUBJECT.exec(subject);
  if (revertSubject) {
    const sha2 = REVERTS_SHA.exec(body)?.groups?.sha;
    return {
      sha,
      type: 'revert',
      breaking: false,
      description: subject,
      subject,
      pr,
      reverts: { sha: sha2, subject: revertSubject.groups!.subject },
    };
  }
  const m = HEADER.exec(subject.trim());
  if (!m) return { sha, type: '', breaking: BREAKING_FOOTER.test(body), description: subject, subject, pr };
  const g = m.groups!;
  const type = g.type.toLowerCase();
  const parsed: ParsedCommit = {
    sha,
    type,
    scope: g.scope || undefined,
    breaking: Boolean(g.bang) || BREAKING_FOOTER.test(body),
    description: g.desc.trim(),
    subject,
    pr,
  };
  if (type === 'revert') {
    const sha2 = REVERTS_SHA.exec(body)?.groups?.sha;
    parsed.reverts = { sha: sha2, subject: g.desc.trim() };
  }
  return parsed;
}

/** The bump one commit asks for, ignoring revert pairing. */
export function commitBump(c: ParsedCommit): BumpLevel {
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

/** The larger of two bumps. */
export function maxBump(a: BumpLevel, b: BumpLevel): BumpLevel {
  return ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b;
}

/**
 * Drop every revert whose reverted commit is also in the list, and that commit too: the
 * pair cancels out. A revert of something outside the range stays (a patch).
 */
export function cancelReverts(commits: ParsedCommit[]): ParsedCommit[] {
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
