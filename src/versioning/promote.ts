/**
 * Promoting a release branch: each series' newest candidate on the branch becomes its final
 * version (`v0.105.0-rc.2` → `v0.105.0`, `py/1.37.6-rc.2` → `py/1.37.6`), released at the
 * commit the run promotes, which must hold nothing of the series that the candidate lacks.
 * A series with no candidate on the branch gets nothing.
 */
import gt from 'semver/functions/gt.js';
import rcompare from 'semver/functions/rcompare.js';
import type { SemVer } from 'semver';
import { UserError } from '../core/errors.js';
import type { Git } from '../core/git.js';
import { formatTag, parseTag } from '../core/tag-template.js';
import { versionInBranch } from './branch-policy.js';
import {
  candidateNumber,
  commitsSinceCandidate,
  levelBetween,
  type PolicyContext,
  type Series,
  type VersionPlan,
} from './next-version.js';

const core = (v: SemVer): string => `${v.major}.${v.minor}.${v.patch}`;

/**
 * The newest candidate of the series that HEAD contains (so one of this branch's, not
 * another release branch's) and that is above the last stable version; `of` keeps only the
 * candidates of that version (the product's, named by the branch).
 */
async function newestCandidate(
  git: Git,
  template: string,
  id: string,
  names: readonly string[],
  above: string,
  of: string | null,
): Promise<{ name: string; version: SemVer } | null> {
  const candidates: { name: string; version: SemVer }[] = [];
  for (const name of names) {
    const version = parseTag(template, name);
    if (!version || candidateNumber(version, id) === null) continue;
    if (above && !gt(core(version), above)) continue;
    if (of && core(version) !== of) continue;
    candidates.push({ name, version });
  }
  candidates.sort((a, b) => rcompare(a.version, b.version));
  for (const c of candidates) if (await git.isAncestor(`refs/tags/${c.name}`, 'HEAD')) return c;
  return null;
}

/**
 * Why a component's own series has no candidate to promote: its last stable release may be
 * one of this branch's candidates promoted already (then it is no longer above that release,
 * so newestCandidate skips it), on HEAD by a run before this one, or earlier on the branch.
 */
async function nothingToPromote(
  git: Git,
  template: string,
  id: string,
  names: readonly string[],
  lastTag: string,
  ctx: PolicyContext,
): Promise<string> {
  const none = `no ${id} candidate on ${ctx.branch} to promote`;
  const last = lastTag ? parseTag(template, lastTag) : null;
  if (!last || !(await newestCandidate(git, template, id, names, '', core(last)))) return none;
  const at = await git.resolveCommit(`refs/tags/${lastTag}`);
  return at === ctx.headSha
    ? `HEAD is already ${lastTag} (promoted)`
    : `${lastTag} was promoted on ${at?.slice(0, 7) ?? 'another commit'}; ${none} since`;
}

/**
 * The promote run's plan for a series, from its candidate plan (planVersion on the same
 * branch, which found the last stable release and the commits since it: the final
 * release's notes). The product's final version is the one the branch names (`release/0.105`
 * → 0.105.0), else its newest candidate's; a component's own series takes its newest
 * candidate's. A final version already tagged releases nothing: on HEAD it is a re-run.
 */
export async function planPromotion(
  git: Git,
  series: Series,
  ctx: PolicyContext,
  candidate: VersionPlan,
  names: readonly string[],
): Promise<VersionPlan> {
  if (ctx.rule.channel === 'stable' || ctx.rule.channel === 'none')
    throw new UserError(
      `input "promote": branch ${ctx.branch} is on the ${ctx.rule.channel} channel; promote turns a release branch's (release/X.Y) candidates into the final release`,
    );
  const id = ctx.prerelease || ctx.rule.prerelease || ctx.rule.channel;
  const current = candidate.previousVersion;
  const nothing = (reason: string): VersionPlan => ({
    ...candidate,
    candidateOf: '',
    release: false,
    bump: 'none',
    version: current || ctx.initial,
    tag: candidate.previousTag,
    prerelease: false,
    reason,
  });
  if (series.own && ctx.rule.ownSeries === 'none')
    return nothing(`${ctx.branch}: a component's own series has no candidates to promote (ownSeries: none)`);
  const named = series.own ? null : versionInBranch(ctx.branch);
  const newest = await newestCandidate(git, series.template, id, names, current, named);
  const target = named ?? (newest ? core(newest.version) : null);
  if (!target) return nothing(await nothingToPromote(git, series.template, id, names, candidate.previousTag, ctx));
  const tag = formatTag(series.template, target);
  const final = { ...candidate, candidateOf: '', version: target, tag, prerelease: false };
  const released = names.find((n) => {
    const v = parseTag(series.template, n);
    return v !== null && v.prerelease.length === 0 && v.version === target;
  });
  if (released) {
    const at = await git.resolveCommit(`refs/tags/${released}`);
    return {
      ...final,
      release: false,
      tag: released,
      bump: 'none',
      reason:
        at === ctx.headSha
          ? `HEAD is already ${released} (promoted)`
          : `${released} is already released on ${at?.slice(0, 7) ?? 'another commit'}; nothing to promote`,
    };
  }
  // The release is what was tested: the newest candidate's commit. HEAD past it (for this
  // series' paths) would be released untested, so the run stops; tagging the candidate's
  // commit instead would release something other than what this run builds and deploys.
  const ahead = newest ? await commitsSinceCandidate(git, newest.name, series.paths) : 0;
  if (newest && ahead) {
    const at = (await git.resolveCommit(`refs/tags/${newest.name}`))?.slice(0, 7) ?? '?';
    throw new UserError(
      `input "promote": HEAD ${ctx.headSha.slice(0, 7)} has ${ahead} commit${ahead > 1 ? 's' : ''} not in candidate ${newest.name} (${at}), the newest on ${ctx.branch}${series.paths.length ? ` for ${series.name}'s paths` : ''}; only a tested candidate is promoted: cut a candidate of HEAD first (the push run, or a run without promote), then promote it`,
    );
  }
  return {
    ...final,
    release: true,
    // With no release yet, the step from nothing, as the candidate's.
    bump: levelBetween(current || '0.0.0', target),
    promotedFrom: newest?.name ?? '',
    reason: newest
      ? `promotes ${newest.name} to ${target}`
      : `promotes ${ctx.branch} to ${target} (no candidate tagged on the branch yet)`,
  };
}
