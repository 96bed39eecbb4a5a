/**
 * Which commit a run compares against: one rule per kind of run, each explained in the
 * log. In a shallow clone history is fetched (doubling) until the rule can be answered;
 * when it cannot, the answer is "everything", with a warning — never an empty selection.
 */
import semver from 'semver';
import type { SlipwayConfig } from '../core/config.js';
import { errorMessage, UserError } from '../core/errors.js';
import type { Git } from '../core/git.js';
import type { Logger } from '../core/runtime.js';
import { parseTag, tagGlob } from '../core/tag-template.js';
import { componentTemplate, versionedComponents } from '../versioning/version-bump.js';
import { lastStableTag, seriesTags, type LastRelease } from '../versioning/next-version.js';

/** The commit of the last successful deployment to an environment, or null when there is none. */
export type DeploymentLookup = (environment: string) => Promise<string | null>;

/** What the base rule reads. */
export interface BaseRequest {
  /** GITHUB_EVENT_NAME; empty outside a runner. */
  eventName: string;
  /** The event payload. */
  event: Record<string, unknown>;
  /** GITHUB_REF. */
  ref: string;
  /** The `base`, `head` and `environment` inputs (empty when not given). */
  base: string;
  head: string;
  environment: string;
  config: SlipwayConfig;
  lastDeployment: DeploymentLookup;
}

/** The answer: a base commit to diff against, or why everything is selected. */
export interface BaseDecision {
  head: string;
  /** null: no base could be had; select everything. */
  base: string | null;
  /** One line explaining the rule that decided. */
  rule: string;
  /** Set when everything is selected because history is missing (logged as a warning). */
  warning?: string;
}

const short = (sha: string) => sha.slice(0, 7);

/** Apply the base rule for this run. */
export async function chooseBase(git: Git, req: BaseRequest, log: Logger): Promise<BaseDecision> {
  const ensure = (check: () => Promise<boolean>, what: string) => git.deepenUntil(check, what);
  // No head input: HEAD itself, whose absence git.head() names (no commits yet, not a repository).
  const head = req.head ? await resolveInput(git, req.head, 'head', ensure) : await git.head();
  const everything = async (rule: string, warning?: string): Promise<BaseDecision> => ({
    head,
    base: null,
    rule,
    warning: warning ?? ((await git.isShallow()) ? `${rule}; the shallow clone could not be deepened` : undefined),
  });

  if (req.base) {
    const base = await resolveInput(git, req.base, 'base', ensure);
    return { head, base, rule: `base input: ${req.base} (${short(base)})` };
  }

  const event = req.event;
  if (req.eventName === 'push' && req.ref.startsWith('refs/tags/'))
    return previousTagOfSeries(git, req, head, everything, log);

  if (req.eventName === 'push') {
    const before = str(event.before);
    if (!before || /^0+$/.test(before)) return mergeBaseWithDefault(git, req, head, 'push of a new branch', everything);
    const present = await ensure(
      async () => (await git.resolveCommit(before)) !== null && (await git.isAncestor(before, head)),
      `the commit before the push (${short(before)})`,
    );
    if (present) return { head, base: before, rule: `push: the commit before the push (${short(before)})` };
    if (await git.isShallow()) return everything(`push: ${short(before)} is not in the fetched history`);
    return mergeBaseWithDefault(
      git,
      req,
      head,
      `push: ${short(before)} is not in the history (force push)`,
      everything,
      true,
    );
  }

  if (req.eventName === 'pull_request' || req.eventName === 'pull_request_target') {
    const pr = (event.pull_request ?? {}) as Record<string, unknown>;
    const baseSha = str((pr.base as Record<string, unknown> | undefined)?.sha);
    if (!baseSha) return everything('pull request: the event has no pull_request.base.sha');
    // A checkout of the head (or of one branch) lacks the base branch: fetch its commit, at
    // the clone's depth, so that deepening moves both boundaries back together.
    if ((await git.resolveCommit(baseSha)) === null) {
      const shallow = await git.isShallow();
      await git.fetchRefs([baseSha], shallow ? 1 : undefined);
    }
    let mb: string | null = null;
    const ok = await ensure(
      async () => {
        if ((await git.resolveCommit(baseSha)) === null) return false;
        mb = await git.mergeBase(baseSha, head);
        return mb !== null;
      },
      `the merge-base with the pull request's base ${short(baseSha)}`,
    );
    if (!ok || !mb) return everything(`pull request: no merge-base of ${short(baseSha)} and ${short(head)}`);
    return { head, base: mb, rule: `pull request: merge-base ${short(mb)} of the base ${short(baseSha)} and the head` };
  }

  // workflow_dispatch, schedule, and runs outside GitHub (the CLI): since the last deployment, else the last tag.
  const what = req.eventName || 'local run';
  if (req.environment) {
    let sha: string | null = null;
    let unread = false;
    try {
      sha = await req.lastDeployment(req.environment);
    } catch (err) {
      unread = true;
      log.warning(
        `Could not read the deployments of ${req.environment}: ${errorMessage(err)}; using the previous tag.`,
      );
    }
    if (sha) {
      const deployed = sha;
      const present = await ensure(
        async () => (await git.resolveCommit(deployed)) !== null,
        `the commit deployed to ${req.environment}`,
      );
      if (present)
        return {
          head,
          base: deployed,
          rule: `${what}: the last successful deployment to ${req.environment} (${short(deployed)})`,
        };
      log.warning(
        `The commit deployed to ${req.environment} (${short(deployed)}) is not in this repository's history; using the previous tag.`,
      );
    } else if (!unread) log.info(`No successful deployment to ${req.environment} found; using the previous tag.`);
  }
  return nearestTag(git, req, head, what, everything, log);
}

type Everything = (rule: string, warning?: string) => Promise<BaseDecision>;

/** The merge-base of head and the default branch (new branches, force pushes). */
async function mergeBaseWithDefault(
  git: Git,
  req: BaseRequest,
  head: string,
  why: string,
  everything: Everything,
  forced = false,
): Promise<BaseDecision> {
  const repo = (req.event.repository ?? {}) as Record<string, unknown>;
  const branch = str(repo.default_branch) || (await originHead(git)) || 'main';
  let ref: string | null = null;
  for (const r of [`refs/remotes/origin/${branch}`, `refs/heads/${branch}`])
    if ((ref = await git.resolveCommit(r))) break;
  if (!ref) {
    const shallow = await git.isShallow();
    if (await git.fetchRefs([`+refs/heads/${branch}:refs/remotes/origin/${branch}`], shallow ? 1 : undefined))
      ref = await git.resolveCommit(`refs/remotes/origin/${branch}`);
  }
  if (!ref)
    return everything(
      `${why}; the default branch ${branch} cannot be found`,
      `${why}, and the default branch ${branch} cannot be found`,
    );
  const tip = ref;
  let mb: string | null = null;
  const ok = await git.deepenUntil(
    async () => (mb = await git.mergeBase(tip, head)) !== null,
    `the merge-base with ${branch}`,
  );
  if (!ok || !mb) return everything(`${why}; no merge-base with ${branch}`);
  // No commit of its own: the first push of a repository, or a branch (release/1.5) cut and
  // pushed before any commit. Its builds are new (a new version), so nothing is not the answer.
  if (mb === head)
    return everything(
      forced ? `${why} on ${branch} itself` : `${why} with no commit of its own (at ${short(head)} on ${branch})`,
      forced
        ? `${why} on the default branch: there is no earlier state to compare with`
        : `${why} with no commit of its own: there is no earlier state to compare with`,
    );
  return { head, base: mb, rule: `${why}: merge-base ${short(mb)} with ${branch}` };
}

/** The default branch the remote advertises, if the clone recorded it. */
async function originHead(git: Git): Promise<string | null> {
  const out = await git.tryRun(['symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD']);
  return out ? out.trim().replace(/^origin\//, '') : null;
}

/** The tag templates of the policy file: the repository's, then each component's. */
function templates(config: SlipwayConfig): string[] {
  return [config.versioning.tag, ...versionedComponents(config).map((c) => componentTemplate(config, c))];
}

/** Tag push: the previous tag of the same series (for a stable tag, the previous stable one). */
async function previousTagOfSeries(
  git: Git,
  req: BaseRequest,
  head: string,
  everything: Everything,
  log: Logger,
): Promise<BaseDecision> {
  const tag = req.ref.slice('refs/tags/'.length);
  const template = templates(req.config).find((t) => parseTag(t, tag) !== null);
  if (!template)
    return nearestTag(
      git,
      { ...req, head: `${head}^` },
      head,
      `tag push ${tag} (no series matches it)`,
      everything,
      log,
    );
  await fetchTagsIfShallow(git, log);
  const current = parseTag(template, tag)!;
  // A lower tag of the series on the tagged commit itself (a candidate cut there before) is the
  // same content: never the base, or the tag push would compare the commit with itself.
  const candidates = (await seriesTags(git, template))
    .filter(
      (t) =>
        t.commit !== head &&
        semver.lt(t.version, current) &&
        (current.prerelease.length > 0 || t.version.prerelease.length === 0),
    )
    .sort((a, b) => semver.rcompare(a.version, b.version));
  for (const c of candidates) {
    const ok = await git.deepenUntil(
      async () => (await git.resolveCommit(c.commit)) !== null && (await git.isAncestor(c.commit, head)),
      `the previous tag ${c.name}`,
    );
    if (ok) return { head, base: c.commit, rule: `tag push ${tag}: the previous tag of the series, ${c.name}` };
    if (await git.isShallow())
      return everything(`tag push ${tag}: the previous tag ${c.name} is not in the fetched history`);
  }
  return everything(
    `tag push ${tag}: the first tag of the series ${tagGlob(template)}, nothing earlier to compare with`,
    '',
  );
}

/**
 * The product series' last stable tag reachable from head (dispatch, schedule, local runs).
 * Only the repository's own series counts: a component's fresh tag (`py/1.37.5`) marks that
 * component's release, not the product's, and would hide the product's changes since its
 * own last release. On a runner, a tag on head itself is never the base: the workflows' version job
 * reserves the version it is shipping (v1.2.1) as a tag on head, in parallel with this job
 * or before a re-run, and comparing head with itself would select nothing, so nothing would
 * be built or deployed for a version already reserved. The base is the release before it
 * (for a hotfix, the release it patches). Locally (the CLI, no event) nothing reserves tags, so
 * a tag on the head is a release already made and stays the base: nothing changed since it.
 */
async function nearestTag(
  git: Git,
  req: BaseRequest,
  head: string,
  what: string,
  everything: Everything,
  log: Logger,
): Promise<BaseDecision> {
  const from = req.head && req.head !== head ? req.head : head;
  const template = req.config.versioning.tag;
  await fetchTagsIfShallow(git, log);
  const names = await git.tagNames([tagGlob(template)]);
  // Locally (the CLI) a tag on the head is a release already made: nothing changed since it.
  const onRunner = Boolean(req.eventName);
  let last: { release: LastRelease; commit: string } | null = null;
  // The series' tags on head, in the order they were passed over (highest first).
  let onHead: string[] = [];
  const ok = await git.deepenUntil(
    async () => {
      onHead = [];
      let pool = names;
      for (;;) {
        const release = await lastStableTag(git, template, pool, from);
        if (!release) return false;
        const commit = (await git.resolveCommit(release.ref))!;
        if (commit !== head || !onRunner) {
          last = { release, commit };
          return true;
        }
        onHead.push(release.name);
        pool = pool.filter((n) => n !== release.name);
      }
    },
    `the last ${tagGlob(template)} tag before ${short(head)}`,
  );
  const found = last as { release: LastRelease; commit: string } | null;
  const besides = onHead.length
    ? `; ${onHead.join(', ')} ${onHead.length === 1 ? 'is' : 'are'} on the head itself, never the base`
    : '';
  if (!ok || !found) {
    if (await git.isShallow())
      return everything(`${what}: no ${tagGlob(template)} tag in the fetched history${besides}`);
    return everything(
      `${what}: no ${tagGlob(template)} tag ${onHead.length ? 'before the head' : 'yet'}, nothing to compare with${besides}`,
      '',
    );
  }
  return {
    head,
    base: found.commit,
    rule: `${what}: the last tag of the product series, ${found.release.name} (${short(found.commit)})${besides}`,
  };
}

/** Resolve a `base`/`head` input, deepening a shallow clone; absent is a UserError naming the input. */
async function resolveInput(
  git: Git,
  ref: string,
  input: string,
  ensure: (check: () => Promise<boolean>, what: string) => Promise<boolean>,
): Promise<string> {
  let sha: string | null = null;
  await ensure(async () => (sha = await git.resolveCommit(ref)) !== null, `${input} ${ref}`);
  if (!sha)
    throw new UserError(
      `input "${input}": expected a commit, branch or tag of this repository, got "${ref}" (not found, even after fetching history)`,
    );
  return sha;
}

/** In a shallow clone, fetch the tags; a failure is a warning (the rule then falls back on what is here). */
async function fetchTagsIfShallow(git: Git, log: Logger): Promise<void> {
  if (!(await git.isShallow())) return;
  try {
    await git.fetchTags();
  } catch (err) {
    log.warning(errorMessage(err));
  }
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
