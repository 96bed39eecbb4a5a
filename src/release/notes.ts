/**
 * Release notes: the commits since the previous tag of the same series, grouped by change
 * type (the same grouping as version-bump's notes), the migrations added in that range, a
 * compare link and the version to roll back to.
 */
import semver from 'semver';
import type { Git } from '../core/git.js';
import { parseTag } from '../core/tag-template.js';
import { parseCommit, type ParsedCommit } from '../versioning/conventional.js';
import { renderNotes } from '../versioning/notes.js';

/** A tag of the series with its version. */
export interface SeriesTag {
  name: string;
  version: string;
}

/**
 * The tag a release's notes start from: the highest version below `version` of the same
 * template. A stable release counts from the previous stable one (its release candidates'
 * changes are its own); a prerelease counts from whatever came just before.
 */
export function previousTag(tagNames: readonly string[], template: string, version: string): SeriesTag | null {
  const current = semver.parse(version);
  if (!current) return null;
  const stable = current.prerelease.length === 0;
  let best: semver.SemVer | null = null;
  let bestName = '';
  for (const name of tagNames) {
    const v = parseTag(template, name);
    if (!v || semver.gte(v, current)) continue;
    if (stable && v.prerelease.length) continue;
    if (!best || semver.gt(v, best)) {
      best = v;
      bestName = name;
    }
  }
  return best ? { name: bestName, version: best.version } : null;
}

/** What the notes cover. */
export interface NotesInput {
  git: Git;
  tag: string;
  /** The commit released. */
  target: string;
  previous: (SeriesTag & { commit: string }) | null;
  /** Pathspecs of the component (empty: every commit). */
  paths: string[];
  /** Folders whose new files are migrations. */
  migrationDirs: string[];
  /** e.g. https://github.com/acme/shop; empty: no compare link. */
  repoUrl: string;
  /** The component's name, for the first-release line. */
  component?: string;
}

/** The commits of the range touching `paths`, parsed, newest first. */
async function rangeCommits(git: Git, from: string | null, to: string, paths: string[]): Promise<ParsedCommit[]> {
  const out: ParsedCommit[] = [];
  await git.logStream(from ? [`${from}..${to}`] : [to], (c) => void out.push(parseCommit(c.sha, c.subject, c.body)), {
    paths,
  });
  return out;
}

/** Files added under the migration folders in the range, in path order. */
async function addedMigrations(git: Git, from: string | null, to: string, dirs: string[]): Promise<string[]> {
  if (!dirs.length) return [];
  const prefixes = dirs.map((d) => `${d.replace(/\/+$/, '')}/`);
  let added: string[];
  if (from) {
    added = (await git.changedFiles(from, to)).filter((f) => f.status === 'A' || f.status === 'R').map((f) => f.path);
  } else {
    added = (await git.run(['ls-tree', '-r', '--name-only', to])).split('\n').filter(Boolean);
  }
  return added.filter((p) => prefixes.some((d) => p.startsWith(d))).sort();
}

/** The markdown notes of a release. */
export async function generateNotes(input: NotesInput): Promise<string> {
  const from = input.previous?.commit ?? null;
  const commits = await rangeCommits(input.git, from, input.target, input.paths);
  const migrations = await addedMigrations(input.git, from, input.target, input.migrationDirs);
  return composeNotes({ ...input, commits, migrations });
}

/** Put the parts together (pure, for tests and for notes given from elsewhere). */
export function composeNotes(input: {
  tag: string;
  commits: ParsedCommit[];
  migrations: string[];
  previous: SeriesTag | null;
  repoUrl: string;
  component?: string;
}): string {
  const parts: string[] = [];
  if (input.migrations.length) {
    parts.push(`### Migrations\n\n${input.migrations.map((m) => `- \`${m}\``).join('\n')}`);
  }
  const prev = input.previous;
  if (prev && input.repoUrl) {
    const range = `${prev.name}...${input.tag}`;
    parts.push(`**Full changelog:** [${range}](${input.repoUrl}/compare/${encodeURI(range)})`);
  }
  parts.push(
    prev
      ? `**Roll back to:** ${prev.version} (\`${prev.name}\`)`
      : `First release${input.component ? ` of ${input.component}` : ''}: there is no earlier version to roll back to.`,
  );
  // The commits give way first: the migrations, the link and the rollback line always stay.
  const rest = parts.join('\n\n');
  return [
    fitCommits(
      renderNotes(input.commits, { maxCommits: Infinity, maxChars: Infinity }),
      MAX_NOTES_CHARS - rest.length - 2,
    ),
    rest,
  ].join('\n\n');
}

/**
 * GitHub refuses a release body over 125,000 characters (a 422), which the first release
 * of a long history reaches; the notes stay under it with a margin for the changelog heading.
 */
export const MAX_NOTES_CHARS = 120_000;

/** The grouped commit lines cut to `budget` characters at a line, saying how many were left out. */
function fitCommits(text: string, budget: number): string {
  if (text.length <= budget) return text;
  const room = budget - 200;
  const kept: string[] = [];
  let used = 0;
  let dropped = 0;
  for (const line of text.split('\n')) {
    if (dropped || used + line.length + 1 > room) {
      if (line.startsWith('- ')) dropped++;
      continue;
    }
    kept.push(line);
    used += line.length + 1;
  }
  // A heading whose lines were all cut goes too.
  while (kept.length && (kept[kept.length - 1] === '' || kept[kept.length - 1].startsWith('#'))) kept.pop();
  return `${kept.join('\n')}\n- … and ${dropped} more commit${dropped === 1 ? '' : 's'}, left out: GitHub limits release notes to 125,000 characters`;
}
