/**
 * tag-release in the CLI and the demo: the same notes, written into a local annotated tag
 * instead of a GitHub release (there is no API to call on a laptop).
 */
import { loadConfig, requireComponent, tagTemplateFor } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { Git } from '../core/git.js';
import type { Runtime } from '../core/runtime.js';
import { formatTag, tagGlob } from '../core/tag-template.js';
import { generateNotes, previousTag } from '../release/notes.js';
import { checkTagName } from '../release/tag-release.js';
import { componentTemplate, seriesPaths } from '../versioning/version-bump.js';

/** Inputs of tag-release that the local form uses. */
interface LocalTagInputs {
  version: string;
  tag: string;
  component: string;
  notes: string;
  target: string;
  config: string;
  dryRun: boolean;
}

/** Create (or find) the local annotated tag of a version, with generated notes. */
export async function tagReleaseLocally(raw: Record<string, unknown>, rt: Runtime): Promise<void> {
  const inputs = raw as unknown as LocalTagInputs;
  const git = new Git(rt.cwd, rt.log);
  const config = await loadConfig(rt.cwd, inputs.config);
  const component = inputs.component ? requireComponent(config, inputs.component) : null;
  const template = component ? componentTemplate(config, component) : tagTemplateFor(config);
  const tag = inputs.tag || formatTag(template, inputs.version);
  // Also keeps a name such as "-d" from reaching git's command line as an option.
  checkTagName(tag);
  const target = await localTarget(git, inputs.target);
  const tags = await git.tags(tagGlob(template));
  const existing = tags.find((t) => t.name === tag);
  const prev = previousTag(
    tags.map((t) => t.name),
    template,
    inputs.version,
  );
  const prevCommit = prev ? (tags.find((t) => t.name === prev.name)?.commit ?? null) : null;
  const migrationDirs = Object.values(config.components)
    .filter((c) => c.migrate && (!component || c.name === component.name || component.dependsOn.includes(c.name)))
    .map((c) => c.migrate!.dir);
  const notes =
    inputs.notes ||
    (await generateNotes({
      git,
      tag,
      target,
      previous: prev && prevCommit ? { ...prev, commit: prevCommit } : null,
      paths: component ? seriesPaths(component) : [],
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
  } else if (inputs.dryRun) {
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
  rt.setOutput('tag', tag);
  rt.setOutput('created', created);
  rt.setOutput('release-id', '');
  rt.setOutput('release-url', '');
  rt.setOutput('notes', notes);
  await rt.summary(`## Release ${tag}\n\n${notes}\n`);
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
