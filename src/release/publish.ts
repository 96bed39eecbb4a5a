/**
 * The tag, the release and the changelog, through the GitHub API: no push credentials and
 * no history in the checkout are needed. Every step first looks at what is already there,
 * so a re-run changes nothing and a racing run that got there first is not an error.
 */
import { UserError } from '../core/errors.js';
import type { Logger } from '../core/runtime.js';
import { apiMessage, httpStatus, type RepoClient } from '../github/client.js';

/** What to publish. */
export interface ReleaseSpec {
  tag: string;
  /** The commit SHA the tag points to. */
  target: string;
  name: string;
  /** The annotated tag's message (default: the name). */
  tagMessage?: string;
  notes: string;
  prerelease: boolean;
  draft: boolean;
  /** GitHub's make_latest: never "true" for a prerelease. */
  makeLatest: 'true' | 'false' | 'legacy';
}

/** A release as the action reports it. */
export interface ReleaseInfo {
  id: number;
  url: string;
  created: boolean;
}

/** The names of every tag whose name starts with `prefix`. */
export async function listTags(gh: RepoClient, prefix: string): Promise<string[]> {
  // GitHub answers this endpoint whole: it takes no paging parameters (see its OpenAPI description).
  const { data: refs } = await gh.octokit.rest.git.listMatchingRefs({
    owner: gh.owner,
    repo: gh.repo,
    ref: `tags/${prefix}`,
  });
  return refs.map((r) => r.ref.replace(/^refs\/tags\//, ''));
}

/** The commit a tag points to (annotated tags peeled), or null when the tag does not exist. */
export async function tagCommit(gh: RepoClient, tag: string): Promise<string | null> {
  let ref;
  try {
    ref = await gh.octokit.rest.git.getRef({ owner: gh.owner, repo: gh.repo, ref: `tags/${tag}` });
  } catch (err) {
    if (httpStatus(err) === 404) return null;
    throw err;
  }
  let object = ref.data.object;
  // A tag of a tag is legal in git; five levels is more than anyone makes.
  for (let i = 0; object.type === 'tag' && i < 5; i++) {
    const t = await gh.octokit.rest.git.getTag({ owner: gh.owner, repo: gh.repo, tag_sha: object.sha });
    object = t.data.object;
  }
  return object.sha;
}

function movedTag(tag: string, existing: string, target: string): UserError {
  return new UserError(
    `tag ${tag} already exists on commit ${existing}, not on ${target}: a released tag is never moved; release a new version instead`,
  );
}

/**
 * Create the annotated tag (a tag object, then refs/tags/<tag>) unless it is there already
 * on the same commit. Returns true when this run created it.
 */
export async function ensureTag(gh: RepoClient, spec: ReleaseSpec, log: Logger): Promise<boolean> {
  const existing = await tagCommit(gh, spec.tag);
  if (existing) {
    if (existing !== spec.target) throw movedTag(spec.tag, existing, spec.target);
    log.info(`Tag ${spec.tag} already points to ${spec.target.slice(0, 7)}.`);
    return false;
  }
  const object = await gh.octokit.rest.git.createTag({
    owner: gh.owner,
    repo: gh.repo,
    tag: spec.tag,
    message: spec.tagMessage ?? `${spec.name}\n`,
    object: spec.target,
    type: 'commit',
  });
  try {
    await gh.octokit.rest.git.createRef({
      owner: gh.owner,
      repo: gh.repo,
      ref: `refs/tags/${spec.tag}`,
      sha: object.data.sha,
    });
  } catch (err) {
    // A racing run created the ref between our look and our write: judge it as if we had seen it.
    if (httpStatus(err) === 422 && /already exists/i.test(apiMessage(err))) {
      const now = await tagCommit(gh, spec.tag);
      if (now && now !== spec.target) throw movedTag(spec.tag, now, spec.target);
      log.info(`Tag ${spec.tag} was created by another run at the same time, on the same commit.`);
      return false;
    }
    if (httpStatus(err) === 422)
      throw new UserError(`cannot create tag ${spec.tag} at ${spec.target}: ${apiMessage(err)}`);
    throw err;
  }
  log.info(`Created tag ${spec.tag} at ${spec.target.slice(0, 7)}.`);
  return true;
}

type RawRelease = { id: number; html_url: string; tag_name: string; draft: boolean };

/** The release of a tag, drafts included (GitHub only finds published ones by tag). */
async function findRelease(gh: RepoClient, tag: string): Promise<RawRelease | null> {
  try {
    const r = await gh.octokit.rest.repos.getReleaseByTag({ owner: gh.owner, repo: gh.repo, tag });
    return r.data;
  } catch (err) {
    if (httpStatus(err) !== 404) throw err;
  }
  // Drafts are newest first in the list; a draft older than a few hundred releases is not worth the calls.
  let pages = 0;
  for await (const page of gh.octokit.paginate.iterator(gh.octokit.rest.repos.listReleases, {
    owner: gh.owner,
    repo: gh.repo,
    per_page: 100,
  })) {
    const hit = page.data.find((r) => r.tag_name === tag);
    if (hit) return hit;
    if (++pages >= 3) break;
  }
  return null;
}

/** Create the release unless the tag has one already (then it is left as it is). */
export async function ensureRelease(gh: RepoClient, spec: ReleaseSpec, log: Logger): Promise<ReleaseInfo> {
  const existing = await findRelease(gh, spec.tag);
  if (existing) {
    log.info(`Release ${spec.tag} already exists: ${existing.html_url}`);
    return { id: existing.id, url: existing.html_url, created: false };
  }
  try {
    const r = await gh.octokit.rest.repos.createRelease({
      owner: gh.owner,
      repo: gh.repo,
      tag_name: spec.tag,
      target_commitish: spec.target,
      name: spec.name,
      body: spec.notes,
      draft: spec.draft,
      prerelease: spec.prerelease,
      make_latest: spec.makeLatest,
    });
    log.info(
      `Created ${spec.draft ? 'draft ' : ''}${spec.prerelease ? 'prerelease' : 'release'} ${spec.tag}: ${r.data.html_url}`,
    );
    return { id: r.data.id, url: r.data.html_url, created: true };
  } catch (err) {
    if (httpStatus(err) === 422 && /already_exists|already exists/i.test(apiMessage(err))) {
      const raced = await findRelease(gh, spec.tag);
      if (raced) {
        log.info(`Release ${spec.tag} was created by another run at the same time: ${raced.html_url}`);
        return { id: raced.id, url: raced.html_url, created: false };
      }
    }
    if (httpStatus(err) === 422) throw new UserError(`cannot create the release of ${spec.tag}: ${apiMessage(err)}`);
    throw err;
  }
}

/** The changelog entry of a release. */
export function changelogEntry(tag: string, date: string, notes: string): string {
  return `## ${tag} (${date})\n\n${notes.trim()}\n`;
}

/** `entry` placed after the file's title (a leading `# ` heading and its paragraph), or at the top. */
export function prependEntry(existing: string, entry: string): string {
  if (!existing.trim()) return `# Changelog\n\n${entry}`;
  const lines = existing.split('\n');
  if (!lines[0].startsWith('# ')) return `${entry}\n${existing}`;
  // Keep the title and any intro text above the first release heading.
  let i = 1;
  while (i < lines.length && !/^## /.test(lines[i])) i++;
  const head = lines.slice(0, i).join('\n').replace(/\n+$/, '');
  const rest = lines.slice(i).join('\n');
  return `${head}\n\n${entry}${rest ? `\n${rest}` : ''}`;
}

/** The changelog file's text and blob SHA on `branch`, or null when it does not exist yet. */
async function readChangelog(
  gh: RepoClient,
  file: string,
  branch: string,
): Promise<{ text: string; sha: string } | null> {
  try {
    const res = await gh.octokit.rest.repos.getContent({ owner: gh.owner, repo: gh.repo, path: file, ref: branch });
    const data = res.data as { type?: string; content?: string; sha: string };
    if (Array.isArray(res.data) || data.type !== 'file')
      throw new UserError(`input "changelog": ${file} is not a file in ${gh.owner}/${gh.repo}@${branch}`);
    return { text: Buffer.from(data.content ?? '', 'base64').toString('utf8'), sha: data.sha };
  } catch (err) {
    if (httpStatus(err) === 404) return null;
    throw err;
  }
}

/**
 * Prepend the entry to `file` on `branch` and commit it through the API. Skipped when the
 * file already has this tag's heading (a re-run); a concurrent commit to the file is
 * handled by reading it again, a bounded number of times.
 */
export async function updateChangelog(
  gh: RepoClient,
  options: { file: string; branch: string; tag: string; entry: string },
  log: Logger,
): Promise<'updated' | 'unchanged'> {
  for (let attempt = 1; ; attempt++) {
    const current = await readChangelog(gh, options.file, options.branch);
    const text = current?.text ?? '';
    const sha = current?.sha;
    if (entryHeading(options.tag).test(text)) {
      log.info(`${options.file} already has an entry for ${options.tag}.`);
      return 'unchanged';
    }
    try {
      await gh.octokit.rest.repos.createOrUpdateFileContents({
        owner: gh.owner,
        repo: gh.repo,
        path: options.file,
        branch: options.branch,
        message: `docs(changelog): ${options.tag}`,
        content: Buffer.from(prependEntry(text, options.entry)).toString('base64'),
        ...(sha ? { sha } : {}),
      });
      log.info(`Committed the ${options.tag} entry to ${options.file} on ${options.branch}.`);
      return 'updated';
    } catch (err) {
      const s = httpStatus(err);
      if ((s === 409 || s === 422) && attempt < 3) {
        log.info(`${options.file} changed while it was being updated; reading it again.`);
        continue;
      }
      if (s === 409 || s === 422 || s === 404)
        throw new UserError(
          `input "changelog": cannot commit ${options.file} to ${options.branch}: ${apiMessage(err)}`,
        );
      throw err;
    }
  }
}

/** What is already on GitHub, as a dry run finds it (undefined: not looked up, as without a token). */
export interface PublishedState {
  /** The commit the tag points to; null when there is no tag. */
  tagCommit?: string | null;
  /** The web page of the tag's release; null when there is none. */
  releaseUrl?: string | null;
  /** Whether the changelog on its branch already has this tag's entry (null: the file does not exist). */
  changelogHasEntry?: boolean | null;
}

/** Look up what a real run would find, without writing anything; fails as a real run would on a moved tag. */
export async function publishedState(
  gh: RepoClient,
  spec: ReleaseSpec,
  changelog: { file: string; branch: string } | null,
): Promise<PublishedState> {
  const tag = await tagCommit(gh, spec.tag);
  if (tag && tag !== spec.target) throw movedTag(spec.tag, tag, spec.target);
  const release = await findRelease(gh, spec.tag);
  const state: PublishedState = { tagCommit: tag, releaseUrl: release?.html_url ?? null };
  if (changelog) {
    const current = await readChangelog(gh, changelog.file, changelog.branch);
    state.changelogHasEntry = current ? entryHeading(spec.tag).test(current.text) : null;
  }
  return state;
}

/** The heading of a tag's changelog entry, at the start of a line. */
function entryHeading(tag: string): RegExp {
  return new RegExp(`^## ${tag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|$)`, 'm');
}

/**
 * The API calls a run would make, for dry-run output: with what a dry run found on GitHub,
 * only the writes still needed; without (no token), every call of a first release.
 */
export function plannedCalls(
  gh: { owner: string; repo: string },
  spec: ReleaseSpec,
  changelog: { file: string; branch: string } | null,
  state: PublishedState = {},
): string[] {
  const r = `/repos/${gh.owner}/${gh.repo}`;
  const found = (v: unknown, yes: string, no: string) => (v === undefined ? '' : ` → ${v ? yes : no}`);
  const calls = [
    `GET ${r}/git/ref/tags/${spec.tag} (is the tag there, and on which commit?)${found(state.tagCommit, `on ${spec.target.slice(0, 7)} already: no tag to create`, 'not there')}`,
  ];
  if (!state.tagCommit)
    calls.push(
      `POST ${r}/git/tags {"tag":"${spec.tag}","object":"${spec.target}","type":"commit"}`,
      `POST ${r}/git/refs {"ref":"refs/tags/${spec.tag}","sha":"<the tag object>"}`,
    );
  calls.push(
    `GET ${r}/releases/tags/${spec.tag} (is there a release already?)${found(state.releaseUrl, `${state.releaseUrl}: left as it is`, 'none')}`,
  );
  if (!state.releaseUrl)
    calls.push(
      `POST ${r}/releases {"tag_name":"${spec.tag}","target_commitish":"${spec.target}","draft":${spec.draft},"prerelease":${spec.prerelease},"make_latest":"${spec.makeLatest}"}`,
    );
  if (changelog) {
    const has = state.changelogHasEntry;
    calls.push(
      `GET ${r}/contents/${changelog.file}?ref=${changelog.branch}${has === undefined ? '' : has === null ? ' → no such file: it will be created' : has ? ` → has the ${spec.tag} entry already: unchanged` : ''}`,
    );
    if (!has)
      calls.push(
        `PUT ${r}/contents/${changelog.file} {"branch":"${changelog.branch}","message":"docs(changelog): ${spec.tag}"} (prepend the ${spec.tag} entry)`,
      );
  }
  return calls;
}
