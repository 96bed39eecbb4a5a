/**
 * Two rules on the versions a deploy puts on an environment, checked against the record
 * before the lock and again once it is held (a run that waited may find the environment
 * moved on while it waited):
 *
 * - one version is one commit: a version the environment's record already holds for a
 *   different commit is refused (two pushes that both computed 0.1.1 must not both ship
 *   as 0.1.1), unless the component's files are identical in both commits;
 * - no silent downgrade: outside a manual rollback, a version lower than the one the
 *   environment runs is refused unless `allow-downgrade` is set.
 */
import semver from 'semver';
import type { SlipwayConfig } from '../core/config.js';
import { execFile } from '../core/exec.js';
import { pathspecs } from '../core/git.js';
import type { PlanStep } from './plan.js';
import type { DeploymentEntry } from './record/record.js';
import { componentPaths } from '../versioning/version-bump.js';

const short = (sha: string) => sha.slice(0, 7);

function list(items: string[]): string {
  const shown = items.slice(0, 4);
  if (items.length > shown.length) shown.push(`${items.length - shown.length} more`);
  return shown.join(', ');
}

/** The steps whose next version is lower than what the environment runs (semantic versions only). */
export function downgrades(steps: readonly PlanStep[]): PlanStep[] {
  return steps.filter(
    (s) => s.current && semver.valid(s.current) && semver.valid(s.next) && semver.lt(s.next, s.current),
  );
}

/** The one-line refusal of a downgrade. */
export function downgradeRefusal(environment: string, steps: readonly PlanStep[]): string {
  return (
    `refusing to deploy to ${environment}: ${list(steps.map((s) => `${s.component} ${s.next} is older than the ${s.current} it runs`))} ` +
    `(to go back on purpose use rollback: true with to-version, or set allow-downgrade: true)`
  );
}

/** A version the record holds for another commit. */
export interface VersionClash {
  component: string;
  version: string;
  /** The commit the record holds it for, and the deployment that says so. */
  sha: string;
  deployment: string;
}

/**
 * Steps whose version a deploy (not a rollback, which records the commit it ran from) in
 * `history` recorded for a commit other than `sha`. `sameContent` may excuse a component
 * whose files did not change between the two commits.
 */
export async function versionClashes(
  steps: readonly PlanStep[],
  history: readonly DeploymentEntry[],
  sha: string,
  sameContent: (component: string, other: string) => Promise<boolean> = async () => false,
): Promise<VersionClash[]> {
  if (!sha) return [];
  const out: VersionClash[] = [];
  for (const s of steps) {
    const held = history.find(
      (e) => e.task === 'deploy' && e.sha && e.sha !== sha && e.versions[s.component] === s.next,
    );
    if (held && !(await sameContent(s.component, held.sha)))
      out.push({ component: s.component, version: s.next, sha: held.sha, deployment: held.id });
  }
  return out;
}

/** The one-line refusal of versions held by other commits. */
export function clashRefusal(environment: string, sha: string, clashes: readonly VersionClash[]): string {
  return (
    `refusing to deploy commit ${short(sha)} to ${environment}: ${list(clashes.map((c) => `${c.component} ${c.version} is already commit ${short(c.sha)} (deployment #${c.deployment})`))}; ` +
    `one version is one commit, so this commit needs a version of its own`
  );
}

/**
 * Whether a component's files are the same in `a` and `b`, by git in `cwd`: its `paths`, its
 * migrations folder and its build inputs. False when it declares none, or git cannot tell (a shallow clone without `b`).
 */
export function sameComponentContent(config: SlipwayConfig, cwd: string, a: string) {
  return async (component: string, b: string): Promise<boolean> => {
    const c = config.components[component];
    // Its migrations folder too: a migrations component has no paths of its own to compare.
    const patterns = c ? [...componentPaths(c), ...(c.build?.inputs ?? [])] : [];
    if (patterns.length === 0) return false;
    // git's pathspecs for picomatch's globs: `!x` excludes (as :(glob)!x it would be a literal name).
    const r = await execFile('git', ['diff', '--quiet', a, b, '--', ...pathspecs(patterns)], {
      cwd,
    }).catch(() => null);
    return r?.code === 0;
  };
}
