/**
 * The tag-release action: a version becomes an annotated tag and a GitHub Release with
 * generated notes, through the API. Safe to re-run, and safe against a racing run.
 */
import semver from 'semver';
import {
  componentSeries,
  loadConfig,
  requireComponent,
  tagTemplateFor,
  type ComponentConfig,
  type SlipwayConfig,
} from '../core/config.js';
import { UserError } from '../core/errors.js';
import { parseJsonObject } from '../core/json-object.js';
import { notify } from '../notify/notify.js';
import { Git } from '../core/git.js';
import { commonInputs, defineAction, input } from '../core/inputs.js';
import { table } from '../core/markdown.js';
import type { Runtime } from '../core/runtime.js';
import { formatTag, isValidTagName, tagGlob } from '../core/tag-template.js';
import { createGitHubClient, repoClient, type RepoClient } from '../github/client.js';
import { componentTemplate, seriesPaths, versionedComponents } from '../versioning/version-bump.js';
import { generateNotes, previousTag, type SeriesTag } from './notes.js';
import { reserveVersion, supersedingHolder, type Reservation } from './reserve.js';
import {
  changelogEntry,
  ensureRelease,
  ensureTag,
  listTags,
  plannedCalls,
  publishedState,
  tagCommit,
  updateChangelog,
  type ReleaseSpec,
} from './publish.js';

export const tagRelease = defineAction({
  name: 'tag-release',
  description: 'Create the annotated tag and the GitHub Release of a version, with release notes; safe to re-run.',
  inputs: {
    ...commonInputs,
    version: input.semver(
      'The version of the repository to release (e.g. 1.4.0 or 1.4.0-rc.1). Empty: only the components input is released.',
    ),
    tag: input.string("The tag. Empty: the tag template (the component's, else versioning.tag) applied to version."),
    component: input.string(
      'The component released (its tag template, its commits and migrations). Empty: the repository.',
    ),
    notes: input.string('Release notes (markdown). Empty: generated from the commits since the previous tag.'),
    prerelease: input.tristate('Mark a prerelease. auto: when the version has a prerelease part.'),
    draft: input.boolean('Create the release as a draft.', 'false'),
    target: input.string('The commit SHA to tag. Empty: GITHUB_SHA, else HEAD.'),
    token: input.string('GitHub token with contents: write.', { default: '${{ github.token }}', secret: true }),
    changelog: input.string(
      'A file to prepend the notes to, committed through the API (e.g. CHANGELOG.md). Empty: none.',
    ),
    components: input.string(
      "version-bump's components output (JSON): a tag and a release for each component whose series moved (release true), notes from its own commits. Empty: none.",
    ),
    reserve: input.boolean(
      "Only create the tags, before anything is built: a tag reserves its version for this commit, the product's (version) and each moved component's own (components). When another commit holds one (a racing run), the next free version of that series and kind is tagged instead; the version, versions and components outputs say which. When the commit holding it is newer and contains this one, this run is superseded instead (the superseded output). A later run without reserve adds the releases to the tags.",
      'false',
    ),
    versions: input.string(
      "With reserve: version-bump's versions output (JSON component → version); the versions output is the same with each component at the version reserved for it (its own series', else the product's).",
    ),
    'make-latest': input.choice(
      "Mark the release latest. auto: GitHub's choice by version (legacy); a prerelease is never latest.",
      ['auto', 'true', 'false'] as const,
      'auto',
    ),
  },
  outputs: {
    tag: 'The tag.',
    version: 'The version tagged: the input, or with reserve the next free one when another commit held it.',
    versions:
      'With reserve and the versions input: JSON component → version to build and deploy at, each at the version reserved for it.',
    created: 'true when this run created the release; false when it was already there.',
    'release-id': 'The id of the release (empty in a dry run).',
    'release-url': 'The web page of the release (empty in a dry run).',
    notes: 'The release notes (markdown).',
    superseded:
      "With reserve: the SHA of a newer commit that contains this one and holds a version this run computed (its run releases and deploys these changes; skip this run's build, deploy and release), else empty.",
    components:
      "JSON: component → {tag, created, release-id, release-url} of the component releases made or found. With reserve: the components input with each reserved component's version and tag (the next free one when another commit held it), for the later release.",
  },
  async run(inputs, rt) {
    await release(inputs, rt);
  },
});

type TagReleaseInputs = Parameters<(typeof tagRelease)['run']>[0];

/** What one release made (or found). */
interface ReleaseResult {
  tag: string;
  created: boolean;
  id: number | '';
  url: string;
  notes: string;
}

/** A component whose own series moved, from the components input. */
export interface MovedComponent {
  component: ComponentConfig;
  version: string;
  /** Empty: the template applied to version. */
  tag: string;
}

/** One release to make: the repository's (no component) or a component's own series'. */
interface ReleaseRequest {
  component?: ComponentConfig;
  version: string;
  /** Empty: the template applied to version. */
  tag: string;
  /** Empty: generated. */
  notes: string;
  /** Only the repository's release may become latest or write the changelog. */
  primary: boolean;
}

/**
 * The action's work: the repository's release (version), then one per component whose
 * series moved (components). A GitHub error the retries could not fix becomes one line at
 * the entry point (apiFailure).
 */
async function release(inputs: TagReleaseInputs, rt: Runtime): Promise<void> {
  const config = await loadConfig(rt.cwd, inputs.config);
  const moved = componentReleases(inputs.components, config, rt);
  if (!inputs.version && moved === null)
    throw new UserError(
      'input "version" is required: the version to release (or components: version-bump\'s components output)',
    );
  const named = inputs.component ? requireComponent(config, inputs.component) : undefined;
  // A component that follows the product has no release of its own: it is the repository's.
  const component = named && componentSeries(named) === 'own' ? named : undefined;
  if (named && !component)
    rt.log.info(`Component ${named.name} follows the product series (series: product): releasing the repository.`);
  const git = new Git(rt.cwd, rt.log);
  const target = await resolveTarget(inputs.target, rt, git);
  const gh = inputs.token ? repoClient(createGitHubClient({ token: inputs.token, runtime: rt }), rt.env) : null;
  if (!gh && !inputs.dryRun)
    throw new UserError(
      'input "token": a GitHub token with contents: write is needed to create the tag and the release',
    );
  const ctx = { inputs, rt, config, git, gh, target };
  if (inputs.reserve) {
    await reserve(ctx, component, moved ?? []);
    return;
  }

  if (inputs.version) {
    const main = await releaseOne(ctx, {
      component,
      version: inputs.version,
      tag: inputs.tag,
      notes: inputs.notes,
      primary: true,
    });
    rt.setOutput('tag', main.tag);
    rt.setOutput('version', inputs.version);
    rt.setOutput('notes', main.notes);
    rt.setOutput('created', main.created);
    rt.setOutput('release-id', main.id);
    rt.setOutput('release-url', main.url);
  } else {
    rt.log.info('No version input: no release of the repository, only the components whose series moved.');
    for (const o of ['tag', 'version', 'notes', 'release-id', 'release-url']) rt.setOutput(o, '');
    rt.setOutput('created', false);
  }

  const results: Record<string, { tag: string; created: boolean; 'release-id': number | ''; 'release-url': string }> =
    {};
  for (const m of moved ?? []) {
    if (m.component.name === component?.name && m.version === inputs.version) continue;
    const r = await releaseOne(ctx, {
      component: m.component,
      version: m.version,
      tag: m.tag,
      notes: '',
      primary: false,
    });
    results[m.component.name] = { tag: r.tag, created: r.created, 'release-id': r.id, 'release-url': r.url };
  }
  rt.setOutput('components', results);
}

/**
 * Reserve mode: the product's version (version) and each moved component's own version
 * (components) are tagged at the target before anything is built, each stepping to its
 * series' next free version when another commit holds it. The versions and components
 * outputs are the inputs with those reservations, for the build, the deploy and the release.
 */
async function reserve(
  ctx: { inputs: TagReleaseInputs; rt: Runtime; config: SlipwayConfig; gh: RepoClient | null; target: string },
  component: ComponentConfig | undefined,
  moved: MovedComponent[],
): Promise<void> {
  const { inputs, rt, config, gh, target } = ctx;
  if (inputs.tag) throw new UserError('input "tag": not with reserve (the next free version gets its own tag)');
  const wanted: { component?: ComponentConfig; version: string; template: string }[] = [];
  if (inputs.version)
    wanted.push({
      component,
      version: inputs.version,
      template: component ? componentTemplate(config, component) : tagTemplateFor(config),
    });
  for (const m of moved)
    if (!(m.component.name === component?.name && m.version === inputs.version))
      wanted.push({ component: m.component, version: m.version, template: componentTemplate(config, m.component) });
  const tags = wanted.map((w) => formatTag(w.template, w.version));
  tags.forEach(checkTagName);
  // Looked at before any tag is made, so a superseded run usually leaves none behind.
  if (!inputs.dryRun)
    for (const [i, w] of wanted.entries()) {
      const newer = await supersedingHolder(gh!, tags[i], target);
      if (newer) return superseded(rt, newer, { version: w.version, tag: tags[i] }, []);
    }
  const reserved: (Reservation & { component?: ComponentConfig; computed: string })[] = [];
  for (const [i, w] of wanted.entries()) {
    if (inputs.dryRun) {
      rt.log.info(
        `Dry run: would reserve ${w.version} by creating ${tags[i]} at ${target} (or the next free version).`,
      );
      reserved.push({ version: w.version, tag: tags[i], created: false, component: w.component, computed: w.version });
      continue;
    }
    const name = w.component?.name;
    const r = await reserveVersion(
      gh!,
      {
        version: w.version,
        template: w.template,
        target,
        message: (t, v) => (name ? `${name} ${v}` : t),
        runId: rt.env.GITHUB_RUN_ID,
      },
      rt.log,
    );
    if (r.supersededBy)
      return superseded(
        rt,
        r.supersededBy,
        r,
        reserved.filter((x) => x.created).map((x) => x.tag),
      );
    reserved.push({ ...r, component: w.component, computed: w.version });
  }
  rt.setOutput('superseded', '');
  const product = inputs.version ? reserved[0] : undefined;
  const comps = reserved.slice(inputs.version ? 1 : 0);
  rt.setOutput('tag', product?.tag ?? '');
  rt.setOutput('version', product?.version ?? '');
  rt.setOutput('created', product?.created ?? false);
  if (inputs.components.trim()) {
    // version-bump's components JSON, each reserved component at the version it now holds.
    const out = JSON.parse(inputs.components) as Record<string, Record<string, unknown>>;
    for (const r of comps)
      out[r.component!.name] = { ...out[r.component!.name], version: r.version, tag: r.tag, created: r.created };
    rt.setOutput('components', out);
  }
  if (inputs.versions.trim())
    rt.setOutput(
      'versions',
      reservedVersions(
        inputs.versions,
        config,
        product ? { computed: product.computed, reserved: product.version } : null,
        new Map(comps.map((r) => [r.component!.name, r.version])),
      ),
    );
}

/**
 * A newer commit that contains this one holds a version this run computed: it releases and
 * deploys these changes, so this run reserves nothing more and says so; the workflows skip
 * its build, deploy and release. `left` are tags this run made before it found out.
 */
function superseded(rt: Runtime, newer: string, held: { version: string; tag: string }, left: string[]): void {
  rt.log.info(
    `Superseded: ${held.tag} (${held.version}) is held by ${newer.slice(0, 7)}, a newer commit that contains this one; its run releases and deploys these changes, so this run stops here.`,
  );
  if (left.length)
    rt.log.warning(
      `${left.join(', ')} were reserved on this commit before the newer run's tag was seen; they stay as tags without releases (a version skipped, never moved).`,
    );
  rt.setOutput('superseded', newer);
  for (const o of ['tag', 'version', 'versions']) rt.setOutput(o, '');
  rt.setOutput('created', false);
  rt.setOutput('components', '');
}

/**
 * The `components` input: version-bump's components output, each entry whose `release` is
 * true a release to make; null when the input is empty.
 */
export function componentReleases(raw: string, config: SlipwayConfig, rt: Runtime): MovedComponent[] | null {
  const text = raw.trim();
  if (!text) return null;
  const parsed = parseJsonObject(
    text,
    'input "components": expected a JSON object of component → {version, release, tag} (version-bump\'s components output)',
  );
  const out: MovedComponent[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    const component = requireComponent(config, name, 'input "components"');
    const entry = (value ?? {}) as Record<string, unknown>;
    if (entry.release !== true && entry.release !== 'true') continue;
    if (componentSeries(component) === 'product') {
      rt.log.info(`Component ${name} follows the product series: no release of its own.`);
      continue;
    }
    const version = typeof entry.version === 'string' ? entry.version.replace(/^v(?=\d)/, '') : '';
    if (!semver.valid(version))
      throw new UserError(
        `input "components": expected a semantic version for ${name}, got ${JSON.stringify(entry.version)}`,
      );
    out.push({ component, version, tag: typeof entry.tag === 'string' ? entry.tag : '' });
  }
  return out;
}

/** Make (or find) one release: its tag, its GitHub release, the changelog entry of the primary one. */
async function releaseOne(
  ctx: {
    inputs: TagReleaseInputs;
    rt: Runtime;
    config: SlipwayConfig;
    git: Git;
    gh: RepoClient | null;
    target: string;
  },
  req: ReleaseRequest,
): Promise<ReleaseResult> {
  const { inputs, rt, config, git, gh, target } = ctx;
  const component = req.component;
  const template = component ? componentTemplate(config, component) : tagTemplateFor(config);
  const version = req.version;
  const tag = req.tag || formatTag(template, version);
  checkTagName(tag);
  const prerelease = inputs.prerelease === 'auto' ? semver.prerelease(version) !== null : inputs.prerelease;
  // A component's release never takes "latest" from the product's.
  const makeLatest = req.primary ? latestFlag(inputs.makeLatest, prerelease, inputs.draft, rt) : 'false';
  const notes =
    req.notes ||
    (await rt.log.group(`Release notes of ${tag}`, () =>
      notesFor({ git, gh, rt, config, component, template, version, tag, target }),
    ));
  const spec: ReleaseSpec = {
    tag,
    target,
    name: component ? `${component.name} ${version}` : tag,
    notes,
    prerelease,
    draft: inputs.draft,
    makeLatest,
  };
  const changelogFile = req.primary ? inputs.changelog : '';

  if (inputs.dryRun) {
    const repo = gh ?? { owner: ownerRepo(rt)[0], repo: ownerRepo(rt)[1] };
    const changelog = changelogFile ? { file: changelogFile, ...(await changelogBranch(gh, rt)) } : null;
    // With a token, look (reads only) at what is there, so the plan is the calls a real run would make.
    const state = gh ? await publishedState(gh, spec, changelog) : {};
    rt.log.info(
      `Dry run: would release ${tag} at ${target}${prerelease ? ' (prerelease)' : ''}${inputs.draft ? ' (draft)' : ''}.`,
    );
    if (changelog)
      rt.log.info(
        `Dry run: the notes would be prepended to ${changelog.file} on the branch ${changelog.branch} (${changelog.why}).`,
      );
    rt.log.info(`Notes:\n${notes}`);
    rt.log.info(
      `API calls it would make${gh ? '' : ' (without a token nothing was looked up: the calls of a first release)'}:\n${plannedCalls(
        repo,
        spec,
        changelog,
        state,
      )
        .map((c) => `  ${c}`)
        .join('\n')}`,
    );
    await rt.summary(summary(spec, null, true));
    return { tag, created: false, id: '', url: '', notes };
  }

  const client = gh!;
  await ensureTag(client, spec, rt.log);
  const made = await ensureRelease(client, spec, rt.log);
  if (changelogFile) {
    const { branch } = await changelogBranch(client, rt);
    await updateChangelog(
      client,
      {
        file: changelogFile,
        branch,
        tag,
        entry: changelogEntry(tag, new Date().toISOString().slice(0, 10), notes),
      },
      rt.log,
    );
  }
  await rt.summary(summary(spec, made, false));
  if (made.created) {
    await notify(
      config.notify,
      { event: 'release-published', title: `Released ${tag}`, text: notes, url: made.url },
      rt,
    );
  }
  return { tag, created: made.created, id: made.id, url: made.url, notes };
}

/**
 * version-bump's versions JSON with the reservations: a component with a reservation of its
 * own series at it; one that follows the product (any other at the computed product version)
 * at the product's reservation.
 */
function reservedVersions(
  raw: string,
  config: SlipwayConfig,
  product: { computed: string; reserved: string } | null,
  own: Map<string, string>,
): Record<string, string> {
  const parsed = parseJsonObject(
    raw,
    'input "versions": expected a JSON object of component → version (version-bump\'s versions output)',
  );
  const ownSeries = new Set(versionedComponents(config).map((c) => c.name));
  return Object.fromEntries(
    Object.entries(parsed).map(([name, v]) => {
      const reserved = own.get(name);
      if (reserved) return [name, reserved];
      if (product && !ownSeries.has(name) && v === product.computed) return [name, product.reserved];
      return [name, String(v)];
    }),
  );
}

/** A tag name git and GitHub accept (the common rules of git check-ref-format); a UserError naming the input otherwise. */
export function checkTagName(tag: string): void {
  if (!isValidTagName(tag))
    throw new UserError(`input "tag": expected a valid git tag name such as v1.2.0, got ${JSON.stringify(tag)}`);
}

/** The commit to tag as a full SHA. */
async function resolveTarget(given: string, rt: Runtime, git: Git): Promise<string> {
  const raw = given || rt.env.GITHUB_SHA || '';
  if (/^[0-9a-f]{40}$/i.test(raw)) return raw.toLowerCase();
  const local = await git.resolveCommit(raw || 'HEAD').catch(() => null);
  if (local) return local;
  throw new UserError(
    `input "target": expected a commit SHA (40 hex digits) or a commit of the checkout, got ${JSON.stringify(raw || 'HEAD')}`,
  );
}

/** GitHub's make_latest for the inputs; a prerelease or a draft is never latest. */
function latestFlag(
  input: 'auto' | 'true' | 'false',
  prerelease: boolean,
  draft: boolean,
  rt: Runtime,
): ReleaseSpec['makeLatest'] {
  if (prerelease || draft) {
    if (input === 'true')
      rt.log.warning(`make-latest: a ${prerelease ? 'prerelease' : 'draft'} is never marked latest; ignoring "true".`);
    return 'false';
  }
  return input === 'auto' ? 'legacy' : input;
}

function ownerRepo(rt: Runtime): [string, string] {
  const [owner = 'OWNER', repo = 'REPO'] = (rt.env.GITHUB_REPOSITORY ?? '').split('/');
  return [owner, repo];
}

/**
 * Where the changelog is committed: the branch being released (GITHUB_REF refs/heads/…),
 * else the repository's default branch (a tag push, a pull request). Without a token (a dry
 * run) the default branch cannot be asked for, and is named as such.
 */
async function changelogBranch(gh: RepoClient | null, rt: Runtime): Promise<{ branch: string; why: string }> {
  const ref = rt.env.GITHUB_REF ?? '';
  if (ref.startsWith('refs/heads/'))
    return { branch: ref.slice('refs/heads/'.length), why: `the branch released, from GITHUB_REF ${ref}` };
  const because = ref ? `GITHUB_REF ${ref} is not a branch` : 'GITHUB_REF is not set';
  if (!gh)
    return { branch: '<the default branch>', why: `${because}; the default branch, asked from GitHub with a token` };
  const repo = await gh.octokit.rest.repos.get({ owner: gh.owner, repo: gh.repo });
  return { branch: repo.data.default_branch, why: `the repository's default branch: ${because}` };
}

/** Generate the notes: the previous tag from GitHub (local tags in a dry run without a token), the range from git. */
async function notesFor(o: {
  git: Git;
  gh: RepoClient | null;
  rt: Runtime;
  config: SlipwayConfig;
  component?: ComponentConfig;
  template: string;
  version: string;
  tag: string;
  target: string;
}): Promise<string> {
  const { git, gh, rt } = o;
  const seriesTags = async (template: string) => {
    const local = gh ? [] : await git.tags(tagGlob(template));
    const names = gh ? await listTags(gh, template.slice(0, template.indexOf('{version}'))) : local.map((t) => t.name);
    return { local, prev: previousTag(names, template, o.version) };
  };
  let { local, prev } = await seriesTags(o.template);
  // A component's first own release continues from the product's, as version-bump counts it.
  const product = tagTemplateFor(o.config);
  if (!prev && o.component && o.template !== product) ({ local, prev } = await seriesTags(product));
  let previous: (SeriesTag & { commit: string }) | null = null;
  if (prev) {
    const commit = gh ? await tagCommit(gh, prev.name) : local.find((t) => t.name === prev.name)!.commit;
    if (commit) previous = { ...prev, commit };
  }
  rt.log.info(
    previous
      ? `Notes cover ${previous.name}..${o.target.slice(0, 7)}.`
      : `No earlier ${o.template} tag: notes cover the whole history.`,
  );
  await ensureHistory(git, o.target, previous);
  const repoUrl = rt.env.GITHUB_REPOSITORY
    ? `${(rt.env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '')}/${rt.env.GITHUB_REPOSITORY}`
    : '';
  return generateNotes({
    git,
    tag: o.tag,
    target: o.target,
    previous,
    paths: o.component ? seriesPaths(o.config, o.component) : [],
    migrationDirs: migrationDirs(o.config, o.component),
    repoUrl,
    component: o.component?.name,
  });
}

/** The migrations folders whose new files a release lists: the component's and its direct dependencies'. */
function migrationDirs(config: SlipwayConfig, c?: ComponentConfig): string[] {
  const comps = c ? [c, ...c.dependsOn.map((d) => config.components[d])] : Object.values(config.components);
  return [...new Set(comps.map((x) => x?.migrate?.dir).filter((d): d is string => Boolean(d)))];
}

/**
 * A shallow checkout (actions/checkout's default) gets the commits the notes need: the target
 * and, when there is one, the previous tag's commit.
 */
async function ensureHistory(
  git: Git,
  target: string,
  previous: { name: string; commit: string } | null,
): Promise<void> {
  const commits = [target, ...(previous ? [previous.commit] : [])];
  const missing = async () => {
    for (const c of commits) if (!(await git.resolveCommit(c))) return c;
    return null;
  };
  if (!(await missing())) {
    if (!previous && (await git.isShallow())) await git.deepenUntil(async () => false, 'the first commit');
    else if (previous && (await git.isShallow()))
      await git.deepenUntil(
        async () => (await git.mergeBase(target, previous.commit)) === previous.commit,
        `${previous.commit.slice(0, 7)}`,
      );
    return;
  }
  if (!(await git.resolveCommit(target))) await git.fetchRefs([target], 1);
  if (await git.deepenUntil(async () => (await missing()) === null, 'the commits of the release')) return;
  // Name the commit that is still missing, not the first one asked for: the target is often there.
  const absent = await missing();
  if (!absent) return;
  throw new UserError(
    absent === target
      ? `target: commit ${target.slice(0, 7)} is not in the checkout and could not be fetched; check out the repository with fetch-depth: 0 or give notes`
      : `previous tag ${previous!.name}: its commit ${absent.slice(0, 7)} (where the notes start) is not in the checkout and could not be fetched; check out the repository with fetch-depth: 0 or give notes`,
  );
}

function summary(
  spec: ReleaseSpec,
  release: { id: number; url: string; created: boolean } | null,
  dryRun: boolean,
): string {
  const rows: string[][] = [
    ['tag', `\`${spec.tag}\``],
    ['commit', `\`${spec.target.slice(0, 7)}\``],
    ['kind', [spec.draft ? 'draft' : '', spec.prerelease ? 'prerelease' : 'release'].filter(Boolean).join(' ')],
  ];
  if (release) rows.push(['release', `[${spec.tag}](${release.url})${release.created ? '' : ' (already there)'}`]);
  return [`## Release ${spec.tag}${dryRun ? ' (dry run)' : ''}`, '', table(['', ''], rows), '', spec.notes, ''].join(
    '\n',
  );
}
