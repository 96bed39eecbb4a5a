/**
 * Reserving a version for a commit before anything is built with it: its tag is created
 * first, and the tag is the lock (as semantic-release treats it). Two quick pushes both compute
 * 0.1.1; the run whose tag lands first owns 0.1.1, and the other takes the next free version of
 * the same kind instead of failing hours later, so one version always means one commit.
 *
 * Versions follow history: when the commit holding the tag already contains this run's commit
 * (the newer push won), stepping on would give the older code the higher version, and the
 * newer push's deploy would then be refused as a downgrade. This run is superseded instead:
 * the newer push releases and deploys these changes with its own.
 */
import semver from 'semver';
import { UserError } from '../core/errors.js';
import type { Logger } from '../core/runtime.js';
import { reservedTagMessage } from '../core/reserved-tag.js';
import { formatTag } from '../core/tag-template.js';
import { httpStatus, type RepoClient } from '../github/client.js';
import { ensureTag, tagCommit } from './publish.js';

/** How many taken versions a run steps over before it gives up (each is a racing run). */
const MAX_ATTEMPTS = 20;

/** A version reserved: its tag now points to the commit. */
export interface Reservation {
  version: string;
  tag: string;
  /** False when the tag was already on this commit (a re-run). */
  created: boolean;
  /** Set when a newer commit containing this one holds the version: nothing was created. */
  supersededBy?: string;
}

/** The version after `taken` of the same kind: the next candidate, patch, minor or major. */
export function nextFree(taken: string): string {
  const v = semver.parse(taken);
  if (!v) throw new UserError(`input "version": expected a semantic version, got ${JSON.stringify(taken)}`);
  const kind = v.prerelease.length ? 'prerelease' : v.patch ? 'patch' : v.minor ? 'minor' : 'major';
  return semver.inc(v, kind)!;
}

/** True when commit `newer`'s history contains `commit` (GitHub's compare: newer is ahead of it). */
async function containsCommit(gh: RepoClient, newer: string, commit: string): Promise<boolean> {
  try {
    const { data } = await gh.octokit.rest.repos.compareCommitsWithBasehead({
      owner: gh.owner,
      repo: gh.repo,
      basehead: `${commit}...${newer}`,
      // Only the status is read: one commit per page keeps the answer small.
      per_page: 1,
    });
    return data.status === 'ahead';
  } catch (err) {
    // A commit GitHub does not know cannot contain ours; anything else is the entry point's to report.
    if (httpStatus(err) === 404) return false;
    throw err;
  }
}

/** The newer commit holding `tag` that already contains `target`, or null when there is none. */
export async function supersedingHolder(gh: RepoClient, tag: string, target: string): Promise<string | null> {
  const holder = await tagCommit(gh, tag);
  if (!holder || holder === target) return null;
  return (await containsCommit(gh, holder, target)) ? holder : null;
}

/**
 * Create `template`'s tag for `version` at `target`, stepping to the next free version while
 * the tag is held by another commit; superseded (nothing created) when that commit contains
 * `target`. A UserError when every attempt was taken.
 */
export async function reserveVersion(
  gh: RepoClient,
  o: {
    version: string;
    template: string;
    target: string;
    message: (tag: string, version: string) => string;
    /** The workflow run reserving it, marked in the tag's message so a re-run knows its own tag. */
    runId?: string;
  },
  log: Logger,
): Promise<Reservation> {
  let version = o.version;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const tag = formatTag(o.template, version);
    const holder = await tagCommit(gh, tag);
    if (holder && holder !== o.target && (await containsCommit(gh, holder, o.target))) {
      log.info(
        `${version} is held by ${holder.slice(0, 7)}, a newer commit that contains ${o.target.slice(0, 7)}: that run releases these changes.`,
      );
      return { version, tag, created: false, supersededBy: holder };
    }
    if (holder && holder !== o.target) {
      log.info(
        `${version} is taken: tag ${tag} is on ${holder.slice(0, 7)}, another run's commit; trying the next version.`,
      );
      version = nextFree(version);
      continue;
    }
    try {
      const created = await ensureTag(
        gh,
        {
          tag,
          target: o.target,
          name: o.message(tag, version),
          tagMessage: reservedTagMessage(o.message(tag, version), o.runId),
          notes: '',
          prerelease: semver.prerelease(version) !== null,
          draft: false,
          makeLatest: 'false',
        },
        log,
      );
      log.info(`Reserved ${version} for ${o.target.slice(0, 7)} (tag ${tag}).`);
      return { version, tag, created };
    } catch (err) {
      // Lost the race between the look and the write: the tag is another commit's now; the
      // next look decides between stepping on and being superseded.
      if (err instanceof UserError && /already exists on commit/.test(err.message)) {
        log.info(`${version} was reserved by another run at the same moment; looking again.`);
        continue;
      }
      throw err;
    }
  }
  throw new UserError(
    `input "version": ${o.version} and the next ${MAX_ATTEMPTS - 1} versions are all tagged on other commits; is another pipeline tagging this repository?`,
  );
}
