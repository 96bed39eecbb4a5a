/** The version-bump action: the branching and versioning policy turned into the next version. */
import valid from 'semver/functions/valid.js';
import { z } from 'zod';
// Not config.js: without a policy file the YAML parsers and schemas are never loaded.
import { componentSeries, componentTagTemplate, loadConfig, requireComponent, tagTemplateFor } from '../core/config.js';
import type { ComponentConfig, SlipwayConfig } from '../core/config.js';
import { mapLimit } from '../core/concurrency.js';
import { UserError } from '../core/errors.js';
import { reservedByRun } from '../core/reserved-tag.js';
import { Git } from '../core/git.js';
import { commonInputs, defineAction, input } from '../core/inputs.js';
import { table } from '../core/markdown.js';
import type { Runtime } from '../core/runtime.js';
import { isValidTagName, parseTag } from '../core/tag-template.js';
import { branchFromEnv, isPrereleaseId, ruleFor } from './branch-policy.js';
import { lastStableTag, newestTagRef, planVersion, type Series, type VersionPlan } from './next-version.js';
import { renderNotes } from './notes.js';
import { planPromotion } from './promote.js';

/**
 * The component's tag template (one rule for every action): its own series'
 * (componentTagTemplate), or the repository's for a component that follows the product.
 */
export function componentTemplate(config: SlipwayConfig, c: ComponentConfig): string {
  return componentSeries(c) === 'product' ? tagTemplateFor(config) : componentTagTemplate(c.name, c);
}

/** The pathspecs whose commits count for a component: its paths and its migrations folder. */
export function componentPaths(c: ComponentConfig): string[] {
  const paths = [...c.paths];
  if (c.migrate?.dir) paths.push(`${c.migrate.dir.replace(/\/+$/, '')}/**`);
  return paths;
}

/**
 * The pathspecs whose commits move a component's version: its own and those of what it
 * `dependsOn`, transitively (the rule build-selective rebuilds by: a rebuilt component
 * gets a new version); `deployAfter` is order only and moves nothing. None (every commit)
 * for a component that follows the product.
 */
export function seriesPaths(config: SlipwayConfig, c: ComponentConfig): string[] {
  if (componentSeries(c) === 'product') return [];
  const seen = new Set<string>([c.name]);
  const paths = componentPaths(c);
  const queue = [...c.dependsOn];
  while (queue.length) {
    const d = config.components[queue.shift()!];
    if (!d || seen.has(d.name)) continue;
    seen.add(d.name);
    paths.push(...componentPaths(d));
    queue.push(...d.dependsOn);
  }
  return [...new Set(paths)];
}

/** The components that have their own version: series own, with paths to watch. */
export function versionedComponents(config: SlipwayConfig): ComponentConfig[] {
  return Object.values(config.components).filter((c) => componentSeries(c) === 'own' && componentPaths(c).length > 0);
}

/** Whether `prefix` + a version makes a tag git accepts; `{version}` in it would be pasted into the tag as text. */
function isTagPrefix(prefix: string): boolean {
  return !prefix.includes('{version}') && isValidTagName(`${prefix}1.2.3-rc.1`);
}

export const versionBump = defineAction({
  name: 'version-bump',
  description: 'Compute the next semantic version from Conventional Commits and the branching policy.',
  inputs: {
    ...commonInputs,
    component: input.string('Component to version. Empty: the repository, plus every component with paths.'),
    branch: input.string('Branch whose policy applies. Empty: from GITHUB_HEAD_REF or GITHUB_REF.'),
    bump: input.choice(
      'auto (from commits), or a manual major, minor, patch or none.',
      ['auto', 'major', 'minor', 'patch', 'none'] as const,
      'auto',
    ),
    // The identifier and the prefix end up in a version and a tag: checked here, before either is made.
    prerelease: {
      ...input.string("Prerelease identifier instead of the channel's (rc) or the branch name."),
      schema: z.string().refine((s) => s === '' || isPrereleaseId(s), {
        message:
          'expected a prerelease identifier: dot-separated parts of letters, digits and -, no part empty and no all-digit part with a leading zero, e.g. beta or beta.2',
      }),
    },
    'tag-prefix': {
      ...input.string("Tag prefix of the repository series. Empty: the policy file's versioning.tag, default v."),
      schema: z.string().refine((s) => s === '' || isTagPrefix(s), {
        message:
          'expected a tag prefix that makes a valid git tag name with the version after it, without {version}, e.g. "v" or "api/v" (no spaces, "..", ":", "~", "^", "?", "*", "[", "\\")',
      }),
    },
    'initial-version': input.semver(
      "First version when no tag exists. Empty: the policy file's versioning.initial, default 0.1.0.",
    ),
    promote: input.boolean(
      "On a release branch: the final release instead of a new candidate. The product gets the version the branch names (release/0.105 → 0.105.0); each component with its own series, its newest candidate's on the branch (py/1.37.6-rc.2 → 1.37.6); one without a candidate, nothing. A final version already tagged is not released again.",
      'false',
    ),
  },
  outputs: {
    version: 'The next version, or the current one when nothing is releasable.',
    release: 'true when a new version is due.',
    bump: 'The bump applied: major, minor, patch or none. For a release candidate, the step from the last stable version to the one it is a candidate of (0.104.7 → 0.105.0-rc.1: minor). For a first release, the step from 0.0.0 (0.1.0: minor, 1.0.0: major).',
    'candidate-of':
      'On a prerelease channel (release/*), the version the candidate is of (0.105.0 for 0.105.0-rc.2); else empty.',
    'previous-version': 'The last stable version (empty when there is none).',
    'previous-tag': 'The tag of the last stable version.',
    tag: 'The tag of the version.',
    prerelease: 'true when the version has a prerelease part.',
    channel: 'The channel of the branch: stable, rc, beta, alpha or none.',
    notes: 'Markdown notes of the commits, grouped by change type.',
    components:
      'JSON: component → {version, release, bump, previous-version, tag, and candidate-of on a candidate, promoted-from on a promote run}, for each component with its own series.',
    versions:
      "JSON: component → the version it deploys at, for deploy's version input: its own series' version, else (series: product, or no paths) the product version.",
    released:
      "JSON array of the components whose version this run releases: those of the product's series when it releases, and each with its own series that moves. build-selective's released input: a changed component outside it keeps a version that is another commit's, so it is not built or deployed.",
  },
  async run(inputs, rt) {
    const git = new Git(rt.cwd, rt.log);
    // git's answers that do not depend on the policy start now, while the policy is read;
    // the tags first, as the log waits for them.
    let names = settle(git.tagNames());
    const state = settle(git.headState());
    const config = await loadConfig(rt.cwd, inputs.config);
    // Outside a repository, or before its first commit, git's own answer says so; the branch would not.
    const { head: headSha, shallow } = await state;
    const branch = branchFromEnv(inputs.branch, rt.env) ?? (await git.currentBranch());
    if (!branch)
      throw new UserError(
        'input "branch": cannot tell the branch (detached HEAD and no GITHUB_REF); set the branch input',
      );
    const rule = ruleFor(config.versioning.branches, branch);
    // Ignoring it would release a stable version the caller asked to be a prerelease.
    if (inputs.prerelease && rule.channel === 'stable')
      throw new UserError(
        `input "prerelease": applies to release branches and feature-branch previews only, but branch ${branch} follows rule "${rule.match}" (channel stable), which releases stable versions; leave it empty there, got "${inputs.prerelease}"`,
      );
    const initial = inputs.initialVersion || config.versioning.initial;
    // The input's and the policy file's patterns let a leading zero through (01.0.0, 1.0.0-01).
    if (!valid(initial))
      throw new UserError(
        `${inputs.initialVersion ? 'input "initial-version"' : `${config.file ?? 'the policy file'}: versioning.initial`}: expected a semantic version such as 0.1.0 or 1.0.0-rc.1, without leading zeros, got "${initial}"`,
      );
    const ctx = {
      branch,
      rule,
      bump: inputs.bump,
      prerelease: inputs.prerelease,
      initial,
      headSha,
    };

    const repoSeries: Series = {
      name: '',
      template: inputs.tagPrefix ? `${inputs.tagPrefix}{version}` : tagTemplateFor(config),
      paths: [],
    };
    let primary: Series;
    const others: Series[] = [];
    if (inputs.component) {
      const c = requireComponent(config, inputs.component);
      primary =
        componentSeries(c) === 'product'
          ? { ...repoSeries, name: c.name }
          : {
              name: c.name,
              template: componentTemplate(config, c),
              paths: seriesPaths(config, c),
              own: true,
              fallback: repoSeries.template,
            };
    } else {
      primary = repoSeries;
      for (const c of versionedComponents(config))
        others.push({
          name: c.name,
          template: componentTemplate(config, c),
          paths: seriesPaths(config, c),
          own: true,
          fallback: repoSeries.template,
        });
    }
    const series = [primary, ...others];

    if (shallow) {
      await names;
      await ensureHistory(
        git,
        rt,
        series.map((s) => s.template),
      );
      names = git.tagNames();
    }
    rt.log.info(
      `Branch ${branch}: rule "${rule.match}" → channel ${rule.channel}${rule.bump ? `, bump ${rule.bump}` : ''}.`,
    );
    // A re-run of the run that reserved this commit's version ("Re-run all jobs") finds its own
    // tags on HEAD: read as releases already made, the re-run would ship nothing. It computes
    // as the first attempt did, before its reservation, so it ships that version again.
    const ownTags = await reservedByThisRun(git, rt.env.GITHUB_RUN_ID);
    if (ownTags.length) {
      git.hideTags(ownTags);
      rt.log.info(
        `${ownTags.join(', ')} on HEAD ${ownTags.length === 1 ? 'was' : 'were'} reserved by this workflow run (run ${rt.env.GITHUB_RUN_ID}, an earlier attempt): computed as before ${ownTags.length === 1 ? 'it' : 'them'}, so this attempt ships ${ownTags.length === 1 ? 'that version' : 'those versions'} again.`,
      );
    }
    const allNames = (await names).filter((n) => !ownTags.includes(n));
    // Whether HEAD holds each series' newest tag is one git question for all of them, asked
    // while the series' logs are read; the series' git calls overlap, a few at a time.
    const tops = series.map((s) => newestTagRef(s.template, allNames)).filter((r) => r !== undefined);
    const reachable = git.mergedInto(tops, 'HEAD');
    reachable.catch(() => undefined);
    const plans = await mapLimit(series, 6, async (s) => {
      const plan = await planVersion(git, s, ctx, allNames, reachable);
      return inputs.promote ? planPromotion(git, s, ctx, plan, allNames) : plan;
    });
    for (const p of plans)
      rt.log.info(`${p.component || 'repository'}: ${p.previousVersion || '(none)'} → ${p.version} (${p.reason}).`);

    const main = plans[0];
    // A candidate's notes say what it is a candidate of, and since which release they count.
    const since = main.previousTag || 'the first commit';
    const body = renderNotes(main.commits, { unread: main.unread });
    const notes = main.candidateOf
      ? `Release candidate ${main.version} of ${main.candidateOf}: the changes since ${since}.\n\n${body}`
      : main.promotedFrom
        ? `Release ${main.version}, promoted from ${main.promotedFrom}: the changes since ${since}.\n\n${body}`
        : body;
    const comps = plans.slice(inputs.component ? 0 : 1);
    const componentsJson = Object.fromEntries(
      comps.map((p) => [
        p.component,
        {
          version: p.version,
          release: p.release,
          bump: p.bump,
          'previous-version': p.previousVersion,
          tag: p.tag,
          ...(p.candidateOf ? { 'candidate-of': p.candidateOf } : {}),
          ...(p.promotedFrom ? { 'promoted-from': p.promotedFrom } : {}),
        },
      ]),
    );
    rt.setOutput('version', main.version);
    rt.setOutput('release', main.release);
    rt.setOutput('bump', main.bump);
    rt.setOutput('previous-version', main.previousVersion);
    rt.setOutput('previous-tag', main.previousTag);
    rt.setOutput('tag', main.tag);
    rt.setOutput('prerelease', main.prerelease);
    rt.setOutput('channel', main.channel);
    rt.setOutput('candidate-of', main.candidateOf);
    rt.setOutput('notes', notes);
    rt.setOutput('components', componentsJson);
    const own = new Map(comps.map((p) => [p.component, p.version]));
    const componentNames = inputs.component ? [inputs.component] : Object.keys(config.components);
    rt.setOutput('versions', Object.fromEntries(componentNames.map((n) => [n, own.get(n) ?? main.version])));
    const ownRelease = new Map(comps.map((p) => [p.component, p.release]));
    rt.setOutput(
      'released',
      componentNames.filter((n) => ownRelease.get(n) ?? main.release),
    );
    await rt.summary(versionSummary(branch, rule.channel, plans, inputs.dryRun));
  },
});

/** A promise started early and awaited later: its rejection is not "unhandled" meanwhile. */
function settle<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/**
 * In a shallow clone, fetch the tags, then history until the last stable tag of every
 * series is reachable from HEAD: a component released long before the repository's last
 * tag needs more history than the repository's series does. A series with no tag at all
 * is versioned from its first commit, so it needs the whole history.
 */
async function ensureHistory(git: Git, rt: Runtime, templates: string[]): Promise<void> {
  rt.log.info('Shallow clone: fetching tags and the history back to the last release of each series.');
  await git.fetchTags();
  const names = await git.tagNames();
  const withTags = templates.filter((t) => hasSeriesTag(t, names));
  const pending = new Set(templates);
  const what =
    withTags.length < templates.length
      ? `the first commit (no ${templates.filter((t) => !withTags.includes(t)).join(', ')} tag yet)`
      : `the last tag of ${templates.join(', ')}`;
  await git.deepenUntil(async () => {
    for (const t of [...pending])
      if (withTags.includes(t) && (await lastStableTag(git, t, names)) !== null) pending.delete(t);
    return pending.size === 0;
  }, what);
  const unreached = [...pending].filter((t) => withTags.includes(t));
  if (unreached.length)
    rt.log.warning(
      `Could not reach the last ${unreached.join(', ')} tag from HEAD even with full history; versioning ${unreached.length > 1 ? 'those series' : 'that series'} from the first commit.`,
    );
}

/** True when some tag in `names` belongs to the series of `template`. */
function hasSeriesTag(template: string, names: readonly string[]): boolean {
  return names.some((n) => parseTag(template, n) !== null);
}

function versionSummary(branch: string, channel: string, plans: VersionPlan[], dryRun: boolean): string {
  const rows = plans.map((p) => [
    p.component || '(repository)',
    `${p.previousVersion || '—'} → ${p.version}`,
    p.release ? p.bump : `${p.bump} (no release)`,
    p.deciding.length
      ? p.deciding
          .slice(0, 3)
          .map((c) => `\`${c.sha.slice(0, 7)}\` ${c.subject}`)
          .join('<br>') + (p.deciding.length > 3 ? `<br>… ${p.deciding.length - 3} more` : '')
      : p.reason,
  ]);
  return [
    `## Version${dryRun ? ' (dry run)' : ''}`,
    '',
    `Branch \`${branch}\`, channel **${channel}**.`,
    '',
    table(['component', 'version', 'bump', 'decided by'], rows),
    '',
  ].join('\n');
}

/** The tags on HEAD that run `runId` reserved (none off a runner). */
async function reservedByThisRun(git: Git, runId: string | undefined): Promise<string[]> {
  if (!runId) return [];
  return (await git.annotatedTagsAt('HEAD')).filter((t) => reservedByRun(t.message, runId)).map((t) => t.name);
}
