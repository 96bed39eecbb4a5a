/**
 * The next version of one tag series (the whole repository, or one component): the last
 * stable tag reachable from HEAD, the commits since it that touch the series' paths, and
 * the branch's rule decide it.
 */
// Single functions, not the package index: it loads ranges and everything else at start-up.
import inc from 'semver/functions/inc.js';
import major from 'semver/functions/major.js';
import prerelease from 'semver/functions/prerelease.js';
import rcompare from 'semver/functions/rcompare.js';
import type { SemVer } from 'semver';
import type { BranchRule } from '../core/config.js';
import type { Git, TagRef } from '../core/git.js';
import {
  formatTag,
  highestStableTag,
  parseTag,
  stableTagsByVersion,
  tagGlob,
  type StableTag,
} from '../core/tag-template.js';
import { branchSlug, versionInBranch } from './branch-policy.js';
import { decideBump, type BumpLevel, type ParsedCommit, parseCommit } from './conventional.js';

/** A tag series: a component (or '' for the repository), its tag template and paths. */
export interface Series {
  name: string;
  template: string;
  /** Pathspecs whose commits count; empty means every commit. */
  paths: string[];
  /**
   * A component's own series: a release branch's `X.Y` names the product's version, not
   * this series', which gets its own next version as a candidate (or none, by the rule's ownSeries).
   */
  own?: boolean;
  /**
   * The product's template: a series with no release of its own yet continues from the
   * product's last release (its component was released, and deployed, at those versions).
   */
  fallback?: string;
}

/** What the policy decides for a series. */
export interface PolicyContext {
  branch: string;
  rule: BranchRule;
  /** `auto`, or a manual bump that overrides the computed one. */
  bump: BumpLevel | 'auto';
  /** Prerelease identifier override ('' for the channel's own). */
  prerelease: string;
  initial: string;
  headSha: string;
}

/** The decision for one series. */
export interface VersionPlan {
  component: string;
  channel: string;
  release: boolean;
  bump: BumpLevel;
  version: string;
  previousVersion: string;
  previousTag: string;
  tag: string;
  prerelease: boolean;
  /** On a prerelease channel, the version the candidate is of (0.105.0 for 0.105.0-rc.2); else empty. */
  candidateOf: string;
  /** Commits since the previous tag that touch the series, newest first. */
  commits: ParsedCommit[];
  /** Older commits of an untagged history that were not read (see UNTAGGED_HISTORY_LIMIT). */
  unread: number;
  /** The commits that decided the bump. */
  deciding: ParsedCommit[];
  /** One line saying why. */
  reason: string;
  /** On a promote run, the candidate tag this final version is promoted from (empty: none). */
  promotedFrom?: string;
}

interface VersionedTag extends TagRef {
  version: SemVer;
}

/** The tags of a template, parsed; stray or malformed tags are skipped. */
export async function seriesTags(git: Git, template: string, mergedInto?: string): Promise<VersionedTag[]> {
  const out: VersionedTag[] = [];
  for (const t of await git.tags(tagGlob(template), mergedInto)) {
    const version = parseTag(template, t.name);
    if (version) out.push({ ...t, version });
  }
  return out;
}

/** The last release of a series: its tag, as a ref git can resolve, and its version. */
export interface LastRelease {
  name: string;
  /** `refs/tags/<name>`: unambiguous where git expects a commit (annotated tags are peeled). */
  ref: string;
  version: SemVer;
}

/**
 * The highest stable tag of the series reachable from `from` (HEAD). `names` (every tag name, listed
 * once for all series) saves a git call. Candidates are tried from the highest down with
 * one ancestry check each (the highest is nearly always reachable), which is much cheaper
 * than `for-each-ref --merged` over thousands of tags; when many higher tags sit on other
 * branches, git is asked once for the reachable set instead.
 */
export async function lastStableTag(
  git: Git,
  template: string,
  names?: readonly string[],
  from = 'HEAD',
): Promise<LastRelease | null> {
  const stable = stableTagsByVersion(template, names ?? (await git.tagNames([tagGlob(template)])));
  const release = (t: StableTag): LastRelease => ({
    name: t.name,
    ref: `refs/tags/${t.name}`,
    version: parseTag(template, t.name)!,
  });
  const probes = Math.min(stable.length, 8);
  for (let i = 0; i < probes; i++)
    if (await git.isAncestor(`refs/tags/${stable[i].name}`, from)) return release(stable[i]);
  if (stable.length <= probes) return null;
  const reachable = new Set(await git.tagNames([tagGlob(template)], from));
  const found = stable.find((t) => reachable.has(t.name));
  return found ? release(found) : null;
}

/**
 * With no release yet the version is `initial` whatever the commits say, so only the newest
 * commits are read (for the notes and the bump shown): a 100,000-commit history without a
 * tag is not read whole, and its notes stay within what GitHub accepts as an output.
 */
const UNTAGGED_HISTORY_LIMIT = 1000;

/** Read the commits since `last` touching `paths`, parsed, newest first; without `last`, the newest only. */
async function commitsSince(
  git: Git,
  last: LastRelease | null,
  paths: string[],
): Promise<{ commits: ParsedCommit[]; unread: number }> {
  const out: ParsedCommit[] = [];
  await git.logStream(
    last ? [`${last.ref}..HEAD`] : ['HEAD'],
    (c) => {
      out.push(parseCommit(c.sha, c.subject, c.body));
    },
    { paths, ...(last ? {} : { maxCount: UNTAGGED_HISTORY_LIMIT }) },
  );
  const unread =
    !last && out.length === UNTAGGED_HISTORY_LIMIT ? (await git.countCommits(['HEAD'], paths)) - out.length : 0;
  return { commits: out, unread };
}

/**
 * The last release of a series and the commits since it. The highest stable tag is nearly
 * always the last release, so its range is read while git confirms that it is an ancestor
 * of HEAD (the answer comes long before the log ends); when it is not, that read stops at
 * once and the other candidates are tried.
 */
async function lastReleaseAndCommits(
  git: Git,
  series: Series,
  names: readonly string[],
  reachable?: Promise<ReadonlySet<string>>,
): Promise<{ last: LastRelease | null; commits: ParsedCommit[]; unread: number }> {
  const top = highestStableTag(series.template, names);
  if (top) {
    const ref = `refs/tags/${top.name}`;
    let abandoned = false;
    const commits: ParsedCommit[] = [];
    const reading = git.logStream(
      [`${ref}..HEAD`],
      (c) => {
        if (abandoned) return false;
        commits.push(parseCommit(c.sha, c.subject, c.body));
      },
      { paths: series.paths },
    );
    reading.catch(() => undefined);
    if (reachable ? (await reachable).has(ref) : await git.isAncestor(ref, 'HEAD')) {
      await reading;
      return { last: { name: top.name, ref, version: parseTag(series.template, top.name)! }, commits, unread: 0 };
    }
    abandoned = true;
    await reading.catch(() => undefined);
  }
  const last =
    (await lastStableTag(git, series.template, names)) ??
    (series.fallback ? await lastStableTag(git, series.fallback, names) : null);
  return { last, ...(await commitsSince(git, last, series.paths)) };
}

/** The full ref of a series' highest stable tag among `names`, or undefined: what `reachable` is asked about. */
export function newestTagRef(template: string, names: readonly string[]): string | undefined {
  const top = highestStableTag(template, names);
  return top ? `refs/tags/${top.name}` : undefined;
}

/**
 * Decide the next version of a series under the branch's rule. `reachable`, when given, holds
 * the refs among the series' newest tags that HEAD contains (one git call for every series).
 */
export async function planVersion(
  git: Git,
  series: Series,
  ctx: PolicyContext,
  names?: readonly string[],
  reachable?: Promise<ReadonlySet<string>>,
): Promise<VersionPlan> {
  const tagNames = names ?? (await git.tagNames([tagGlob(series.template)]));
  const { last, commits, unread } = await lastReleaseAndCommits(git, series, tagNames, reachable);
  const current = last ? last.version.version : '';
  const computed = decideBump(commits, last ? last.version.major : major(ctx.initial));
  const manual = ctx.bump !== 'auto';
  const forced = manual ? (ctx.bump as BumpLevel) : ctx.rule.bump;
  const bump: BumpLevel = forced
    ? forced === 'none' || manual || commits.length > 0
      ? forced
      : 'none'
    : computed.bump;
  // With no release yet the version is `initial` (or the branch's) whatever the commits ask
  // for, so the bump reported is the step to it from nothing, never the commits' own.
  const first = !last && commits.length > 0 && ctx.bump !== 'none';
  const base = {
    candidateOf: '',
    component: series.name,
    channel: ctx.rule.channel,
    previousVersion: current,
    previousTag: last?.name ?? '',
    commits,
    unread,
    deciding: !last ? [] : forced ? commits.slice(0, 1) : computed.deciding,
  };
  const short = ctx.headSha.slice(0, 7);

  if (ctx.rule.channel === 'none') {
    const id = ctx.prerelease || branchSlug(ctx.branch);
    // The preview's own build metadata is the commit: an initial version's would make two.
    const version = `${(current || ctx.initial).replace(/\+.*$/, '')}-${id}+${short}`;
    return {
      ...base,
      release: false,
      // What main would do: with no release yet, its first release.
      bump: last ? bump : first ? firstRelease(ctx.initial) : 'none',
      version,
      tag: '',
      prerelease: true,
      reason: `branch ${ctx.branch} releases nothing (channel none); preview version ${version}`,
    };
  }

  if (ctx.rule.channel === 'stable') {
    if (!last) {
      return {
        ...base,
        release: first,
        bump: first ? firstRelease(ctx.initial) : 'none',
        version: ctx.initial,
        tag: formatTag(series.template, ctx.initial),
        prerelease: prerelease(ctx.initial) !== null,
        reason: first
          ? `no tag yet: the first release is ${ctx.initial}${forced && forced !== 'none' ? ` (the ${forced} bump applies from the next release)` : ''}`
          : commits.length
            ? 'manual bump none'
            : 'no commits yet',
      };
    }
    if (bump === 'none') {
      return {
        ...base,
        release: false,
        bump,
        version: current,
        tag: last.name,
        prerelease: false,
        reason: commits.length
          ? `${commits.length} commit(s) since ${last.name}, none releasable`
          : `no commits since ${last.name}`,
      };
    }
    const { version, taken } = pastTaken(series.template, tagNames, current, bump);
    return {
      ...base,
      release: true,
      bump,
      version,
      tag: formatTag(series.template, version),
      prerelease: false,
      reason:
        (manual
          ? `manual ${bump} bump`
          : ctx.rule.bump
            ? `${ctx.branch}: ${bump} on ${last.name}`
            : `${bump} from ${describe(base.deciding)}`) +
        (taken ? `; ${outside(taken, bump, '(a release or hotfix branch)')}` : ''),
    };
  }

  // Prerelease channels (rc, beta, alpha): X.Y.Z-<id>.N on a release branch.
  const id = ctx.prerelease || ctx.rule.prerelease || ctx.rule.channel;
  if (series.own && ctx.rule.ownSeries === 'none')
    return {
      ...base,
      release: false,
      bump: 'none',
      version: current || ctx.initial,
      tag: last?.name ?? '',
      prerelease: false,
      reason: `${ctx.branch}: no candidate for a component's own series (ownSeries: none)`,
    };
  const named = series.own ? null : versionInBranch(ctx.branch);
  const level: Step = bump === 'none' ? 'patch' : bump;
  // Only the product's version is pinned by the branch name; a computed one (a component's
  // own series, a release/<other> branch) steps past a version tagged elsewhere, as on main.
  const next = named
    ? { version: named, taken: '' }
    : last
      ? pastTaken(series.template, tagNames, current, level)
      : { version: ctx.initial, taken: '' };
  const target = next.version;
  const passed = next.taken ? `; ${outside(next.taken, level, '(main or another release branch)')}` : '';
  // What the candidate is: the step from the last stable version to the one it is a candidate of.
  const step: BumpLevel = levelBetween(current || '0.0.0', target);
  const all: { name: string; version: SemVer }[] = [];
  for (const name of tagNames) {
    const version = parseTag(series.template, name);
    if (version) all.push({ name, version });
  }
  if (all.some((t) => t.version.prerelease.length === 0 && t.version.version === target)) {
    return {
      ...base,
      release: false,
      bump: 'none',
      version: target,
      tag: formatTag(series.template, target),
      prerelease: false,
      // Renaming the branch moves the product's version only: advice a component cannot follow.
      reason: named
        ? `${target} is already released; bump the release branch to the next version`
        : `${target} is already released outside this history; no candidate of it`,
    };
  }
  const candidates = all
    .filter(
      (t) =>
        `${t.version.major}.${t.version.minor}.${t.version.patch}` === target &&
        candidateNumber(t.version, id) !== null,
    )
    .sort((a, b) => rcompare(a.version, b.version));
  const latest = candidates[0];
  /** The newest candidate again, released already: `reason` says why there is no new one. */
  const still = (c: { name: string; version: SemVer }, reason: string): VersionPlan => ({
    ...base,
    candidateOf: target,
    release: false,
    bump: 'none',
    version: c.version.version,
    tag: c.name,
    prerelease: true,
    reason,
  });
  if (latest && (await git.resolveCommit(`refs/tags/${latest.name}`)) === ctx.headSha)
    return still(latest, `HEAD is already ${latest.name}`);
  // A push that changes nothing of the series since its newest candidate (a component's
  // candidate, then a commit elsewhere) is still that candidate: a new number would be a
  // release of the same content. The same count is what promote refuses on, so the two agree.
  if (latest && !manual && (await commitsSinceCandidate(git, latest.name, series.paths)) === 0)
    return still(
      latest,
      `no commit since ${latest.name} touches ${series.paths.length ? 'its paths' : 'the repository'}: still that candidate`,
    );
  if (!manual && commits.length === 0 && last) {
    return {
      ...base,
      release: false,
      bump: 'none',
      version: current,
      tag: last.name,
      prerelease: false,
      reason: `no commits since ${last.name}`,
    };
  }
  const n = latest ? candidateNumber(latest.version, id)! + 1 : 1;
  const version = `${target}-${id}.${n}`;
  return {
    ...base,
    candidateOf: target,
    release: true,
    bump: step,
    version,
    tag: formatTag(series.template, version),
    prerelease: true,
    reason: `release candidate ${n} of ${target}${named ? ` (from the branch name)` : ''}${passed}`,
  };
}

/**
 * `bump` on `current`, unless a stable tag of that version exists outside this history (a
 * release branch promoted, a hotfix, main past a release branch): a tag is never output
 * twice, so the same bump is taken from the series' highest stable version. `taken` names
 * the tag in the way ('' when none was).
 */
function pastTaken(
  template: string,
  names: readonly string[],
  current: string,
  bump: Step,
): { version: string; taken: string } {
  const version = inc(current, bump)!;
  const tag = formatTag(template, version);
  if (!names.includes(tag)) return { version, taken: '' };
  const highest = highestStableTag(template, names);
  return { version: highest ? inc(`${highest.major}.${highest.minor}.${highest.patch}`, bump)! : version, taken: tag };
}

/** A bump that moves a version. */
type Step = Exclude<BumpLevel, 'none'>;

/** The log's words for a version stepped past: which tag was in the way, and what was taken instead. */
function outside(taken: string, bump: BumpLevel, where: string): string {
  return `${taken} exists outside this history ${where}, so the ${bump} after the series' highest`;
}

/**
 * The number of `version` as a candidate of the prerelease identifier `id` (1.5.0-beta.2.3 of
 * `beta.2` → 3; a bare 1.5.0-rc of `rc` → 0), or null when it is not one: its prerelease is
 * `id`'s parts, then at most a number. semver turns all-digit parts into numbers, so parts
 * are compared as text (`1.5.0-7.2` is a candidate of `7`).
 */
export function candidateNumber(version: SemVer, id: string): number | null {
  const want = id.split('.');
  const got = version.prerelease.map(String);
  if (got.length < want.length || got.length > want.length + 1 || want.some((p, i) => got[i] !== p)) return null;
  if (got.length === want.length) return 0;
  return /^\d+$/.test(got[want.length]) ? Number(got[want.length]) : null;
}

/**
 * The commits in HEAD and not in the candidate tag `name` that touch `paths` (all commits
 * when empty), or null when HEAD does not contain the candidate (another branch's).
 */
export async function commitsSinceCandidate(git: Git, name: string, paths: string[]): Promise<number | null> {
  const ref = `refs/tags/${name}`;
  if (!(await git.isAncestor(ref, 'HEAD'))) return null;
  return git.countCommits([`${ref}..HEAD`], paths);
}

/** A first release's bump: the step from no release at all (0.0.0) to `version` (0.1.0: minor, 1.0.0: major). */
function firstRelease(version: string): BumpLevel {
  return levelBetween('0.0.0', version);
}

/** The level of the step from `from` to `to` (0.104.7 → 0.105.0: minor); none when they are equal or `to` is lower. */
export function levelBetween(from: string, to: string): BumpLevel {
  const [a, b] = [from, to].map((v) => v.split(/[-+]/)[0].split('.').map(Number));
  if (b[0] !== a[0]) return b[0] > a[0] ? 'major' : 'none';
  if (b[1] !== a[1]) return b[1] > a[1] ? 'minor' : 'none';
  return b[2] > a[2] ? 'patch' : 'none';
}

function describe(commits: ParsedCommit[]): string {
  if (!commits.length) return 'no commit';
  const first = commits[0];
  return `${first.sha.slice(0, 7)} "${first.subject}"${commits.length > 1 ? ` and ${commits.length - 1} more` : ''}`;
}
