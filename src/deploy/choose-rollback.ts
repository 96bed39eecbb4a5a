/**
 * What a manual rollback puts back. With `to-version`, every selected component goes to that
 * version. Without it (the rollback button), the rollback undoes the environment's latest
 * deploy still in effect: each component that deploy changed goes back to the good version it
 * had before it, and the others are left alone — except one that an interrupted run left
 * (cancelled, or killed and then unlocked), which goes back to its last good version too.
 * Rollbacks are not deploys to undo: a good rollback puts back what an older deploy put there,
 * which makes that deploy the one in effect, so the next press undoes it.
 */
import type { SlipwayConfig } from '../core/config.js';
import type { PlanStep, VersionChoice } from './plan.js';
import { interruptedComponents, leftBy, type Interrupted } from './record/interrupted.js';
import { endedGood, lastGoodVersions, type DeploymentEntry } from './record/record.js';

/** What the environment may run now, as a manual rollback sees it. */
export interface VersionsNow {
  /** Component → the version it runs: its last good one, or the one an interrupted run was moving it to. */
  current: Record<string, string>;
  /** Component → why the version it runs is not known (`current` is then only what it may run). */
  unknown: Record<string, string>;
}

/** The deploy the rollback button undoes. */
interface Undo {
  entry: DeploymentEntry;
  /** Component → the good version it had before that deploy ('' when that deploy first put it there). */
  before: Record<string, string>;
}

/** A manual rollback's choice: the versions it starts from, and what each selected component goes to. */
export interface RollbackChoice extends VersionsNow {
  /** One line for the log on what the rollback undoes; absent with `to-version`. */
  describe?: string;
  choose(component: string, current: string, kind: PlanStep['kind']): VersionChoice;
}

/** The versions the environment may run now: the last good ones, overlaid with what interrupted runs left. */
export function versionsNow(history: readonly DeploymentEntry[]): VersionsNow {
  const current = lastGoodVersions(history);
  const unknown: Record<string, string> = {};
  for (const [component, left] of Object.entries(interruptedComponents(history))) {
    current[component] = left.version;
    if (left.unknown) unknown[component] = left.unknown;
  }
  return { current, unknown };
}

/**
 * The versions a deploy starts from: the last good ones, with a component an interrupted run
 * finished at the version it put there (it runs it, healthy when it was done), so a failure
 * rolls it back to what ran, not further. A component such a run left unknown starts from its
 * last good version, the one a failure puts back; `unknown` says why, for the log.
 */
export function versionsToDeployFrom(history: readonly DeploymentEntry[]): VersionsNow {
  const current = lastGoodVersions(history);
  const unknown: Record<string, string> = {};
  for (const [component, left] of Object.entries(interruptedComponents(history))) {
    if (left.unknown) unknown[component] = left.unknown;
    else current[component] = left.version;
  }
  return { current, unknown };
}

/** Decide a manual rollback from the environment's record (newest first); `toVersion` '' for the button. */
export function chooseRollback(
  config: SlipwayConfig,
  history: readonly DeploymentEntry[],
  toVersion: string,
  /** The components the run may move (the `components` input): the deploy undone is one that changed one of them. */
  selected: ReadonlySet<string> = new Set(Object.keys(config.components)),
): RollbackChoice {
  const now = versionsNow(history);
  const good = lastGoodVersions(history);
  const interrupted = interruptedComponents(history);
  // Migrations are forward-only and a component gone from the policy cannot be planned: a deploy
  // that changed only those is not one to undo, or the button would stop at it for ever.
  const undoable = (name: string) => {
    const c = config.components[name];
    return Boolean(c?.deploy && !c.migrate && selected.has(name));
  };
  const undo = toVersion ? null : latestInEffect(history, good, undoable);
  const choose = (name: string, current: string, kind: PlanStep['kind']): VersionChoice => {
    if (kind === 'migrate') return { skip: 'migrations are forward-only: not rolled back' };
    if (!current) return { skip: 'never deployed to this environment' };
    // A component whose version is unknown gets a step even to the version it may already run.
    const known = !(name in now.unknown);
    if (toVersion) return toVersion === current && known ? { skip: `already at ${current}` } : { next: toVersion };
    const next = undo && name in undo.before ? undo.before[name] : interrupted[name] ? (good[name] ?? '') : null;
    const put = undo?.entry.versions[name];
    if (next === null && put !== undefined && put !== current)
      return {
        skip: `runs ${current}, not the ${put} deployment #${undo!.entry.id} put there: left alone (to go back further, use to-version)`,
      };
    if (next === null)
      return {
        skip: undo
          ? `not changed by deployment #${undo.entry.id}, the deploy this rollback undoes (to go back further, use to-version)`
          : 'no deploy to undo is recorded',
      };
    if (!next) return { skip: `no good version before ${current} is recorded` };
    return next === current && known ? { skip: `already at ${current}` } : { next };
  };
  return { ...now, choose, describe: toVersion ? undefined : describeUndo(undo, interrupted, undoable) };
}

/**
 * The newest deploy (not a rollback) still in effect: one that ended good while a component it
 * changed runs the version it put there, or an interrupted one while a component it left has
 * not run a good version since. Failed deploys are not candidates: they put back what they changed.
 */
function latestInEffect(
  history: readonly DeploymentEntry[],
  good: Record<string, string>,
  undoable: (name: string) => boolean,
): Undo | null {
  for (const [i, e] of history.entries()) {
    if (e.task !== 'deploy') continue;
    const before = lastGoodVersions(history.slice(i + 1));
    const newer = history.slice(0, i);
    const names = Object.keys(e.versions).filter(undoable);
    let changed: string[];
    let inEffect: boolean;
    if (endedGood(e.state)) {
      // Only what still runs the version it put there: a component moved since (by a later
      // rollback to an older version, say) is not this deploy's to undo, and "back" to the
      // version before it could then be forward.
      changed = names.filter((c) => e.versions[c] !== before[c] && good[c] === e.versions[c]);
      inEffect = changed.length > 0;
    } else {
      changed = names.filter((c) => leftBy(e, c));
      inEffect = changed.some((c) => !newer.some((n) => endedGood(n.state) && c in n.versions));
    }
    if (inEffect) return { entry: e, before: Object.fromEntries(changed.map((c) => [c, before[c] ?? ''])) };
  }
  return null;
}

/** The log line naming what the button undoes. */
function describeUndo(
  undo: Undo | null,
  interrupted: Record<string, Interrupted>,
  undoable: (name: string) => boolean,
): string {
  const list = (names: string[], version: (n: string) => string) => names.map((n) => `${n}@${version(n)}`).join(', ');
  const others = Object.keys(interrupted).filter((n) => undoable(n) && !(undo && n in undo.before));
  const also = others.length
    ? `; ${list(others, (n) => interrupted[n].version)} ${others.length === 1 ? 'was' : 'were'} left by an interrupted run and go${others.length === 1 ? 'es' : ''} back to the last good version`
    : '';
  if (!undo) return `No deploy to undo is recorded${also}.`;
  const { entry } = undo;
  const how = endedGood(entry.state)
    ? `by ${entry.creator || 'unknown'}`
    : `which did not finish: ${entry.description ?? entry.state}`;
  return `The rollback undoes deployment #${entry.id} (${list(Object.keys(undo.before), (n) => entry.versions[n])}, ${how}), the latest deploy still in effect: what it changed goes back to the version before it${also}.`;
}
