/**
 * tag-release in the CLI and the demo: the same notes, written into a local annotated tag
 * instead of a GitHub release (there is no API to call on a laptop).
 */
import {
  componentSeries,
  loadConfig,
  requireComponent,
  tagTemplateFor,
  type ComponentConfig,
  type SlipwayConfig,
} from '../core/config.js';
import { UserError } from '../core/errors.js';
import { Git } from '../core/git.js';
import type { Runtime } from '../core/runtime.js';
import { formatTag, tagGlob } from '../core/tag-template.js';
import { generateNotes, previousTag } from '../release/notes.js';
import { checkTagName, componentReleases } from '../release/tag-release.js';
import { componentTemplate, seriesPaths } from '../versioning/version-bump.js';

/** The parsed inputs (as parseInputs gives them) that the local form reads, typed. */
function localTagInputs(raw: Record<string, unknown>): LocalTagInputs {
  const text = (key: string) => (typeof raw[key] === 'string' ? (raw[key] as string) : '');
  return {
    version: text('version'),
    tag: text('tag'),
    component: text('component'),
    notes: text('notes'),
    target: text('target'),
    config: text('config'),
    dryRun: raw.dryRun === true,
    components: text('components') || undefined,
  };
}

/** Inputs of tag-release that the local form uses. */
interface LocalTagInputs {
  version: string;
  tag: string;
  component: string;
  notes: string;
  target: string;
  config: string;
  dryRun: boolean;
  components?: string;
}

/** Create (or find) the local annotated tags of a version and of the components whose series moved. */
export async function tagReleaseLocally(raw: Record<string, unknown>, rt: Runtime): Promise<void> {
  const inputs = localTagInputs(raw);
  const git = new Git(rt.cwd, rt.log);
  const config = await loadConfig(rt.cwd, inputs.config);
  const moved = componentReleases(inputs.components ?? '', config, rt);
  if (!inputs.version && !moved)
    throw new UserError(
      'input "version" is required: the version to release (or components: version-bump\'s components output)',
    );
  const named = inputs.component ? requireComponent(config, inputs.component) : null;
  const component = named && componentSeries(named) === 'own' ? named : null;
  const target = await localTarget(git, inputs.target);
  if (inputs.version) {
    const main = await tagLocally(
      git,
      rt,
      config,
      { component, version: inputs.version, tag: inputs.tag, notes: inputs.notes },
      target,
      inputs.dryRun,
    );
    rt.setOutput('tag', main.tag);
    rt.setOutput('version', inputs.version);
    rt.setOutput('created', main.created);
    rt.setOutput('notes', main.notes);
  } else {
    rt.setOutput('tag', '');
    rt.setOutput('version', '');
    rt.setOutput('created', false);
    rt.setOutput('notes', '');
  }
  rt.setOutput('release-id', '');
  rt.setOutput('release-url', '');
  const results: Record<string, { tag: string; created: boolean; 'release-id': string; 'release-url': string }> = {};
  for (const m of moved ?? []) {
    const r = await tagLocally(git, rt, config, { ...m, notes: '' }, target, inputs.dryRun);
    results[m.component.name] = { tag: r.tag, created: r.created, 'release-id': '', 'release-url': '' };
  }
  rt.setOutput('components', results);
}

/** One local annotated tag with generated notes, or the one already there on the same commit. */
async function tagLocally(
  git: Git,
  rt: Runtime,
  config: SlipwayConfig,
  req: { component: ComponentConfig | null; version: string; tag: string; notes: string },
  target: string,
  dryRun: boolean,
): Promise<{ tag: string; created: boolean; notes: string }> {
  const component = req.component;
  const template = component ? componentTemplate(config, component) : tagTemplateFor(config);
  const tag = req.tag || formatTag(template, req.version);
  // Also keeps a name such as "-d" from reaching git's command line as an option.
  checkTagName(tag);
  const tags = await git.tags(tagGlob(template));
  const existing = tags.find((t) => t.name === tag);
  // A component's first own release continues from the product's, as version-bump counts it.
  const product = tagTemplateFor(config);
  const from =
    component &&
    template !== product &&
    !previousTag(
      tags.map((t) => t.name),
      template,
      req.version,
    )
      ? { template: product, tags: await git.tags(tagGlob(product)) }
      : { template, tags };
  const prev = previousTag(
    from.tags.map((t) => t.name),
    from.template,
    req.version,
  );
  const prevCommit = prev ? (from.tags.find((t) => t.name === prev.name)?.commit ?? null) : null;
  const migrationDirs = Object.values(config.components)
    .filter((c) => c.migrate && (!component || c.name === component.name || component.dependsOn.includes(c.name)))
    .map((c) => c.migrate!.dir);
  const notes =
    req.notes ||
    (await generateNotes({
      git,
      tag,
      target,
      previous: prev && prevCommit ? { ...prev, commit: prevCommit } : null,
      paths: component ? seriesPaths(config, component) : [],
      migrationDirs,
      repoUrl: '',
      component: component?.name,
    }));
  let created = false;
  if (existing) {
    if (existing.commit !== target) {
      throw new UserError(
        `tag ${tag} already exists on ${existing.commit.slice(0, 12)}, not on ${target.slice(0, 12)}`,
      );
    }
    rt.log.info(`Tag ${tag} is already on ${target.slice(0, 12)}; nothing to do.`);
  } else if (dryRun) {
    rt.log.info(`Dry run: would create the annotated tag ${tag} on ${target.slice(0, 12)}.`);
    rt.log.info(`Notes:\n${notes}`);
  } else {
    // verbatim: git's default cleanup drops every line starting with '#', the notes' headings among them.
    await git.run(['tag', '-a', '--cleanup=verbatim', '-m', `${tag}\n\n${notes.trimEnd()}\n`, tag, target]);
    created = true;
    rt.log.info(
      `Created the annotated tag ${tag} on ${target.slice(0, 12)} (a local tag: push it with git push origin ${tag}).`,
    );
  }
  await rt.summary(`## Release ${tag}\n\n${notes}\n`);
  return { tag, created, notes };
}

/** The commit to tag: `target` (a SHA, branch or tag of the repository), else HEAD; never a silent fallback. */
async function localTarget(git: Git, given: string): Promise<string> {
  const ref = given.trim();
  const commit = await git.resolveCommit(ref || 'HEAD');
  if (commit) return commit;
  if (!ref)
    throw new UserError(`input "target": the repository in ${git.cwd} has no commit to tag yet (HEAD is unborn)`);
  throw new UserError(
    `input "target": expected a commit of the repository (a SHA, branch or tag), got ${JSON.stringify(ref)}, which is not one`,
  );
}
