/**
 * What a run that did not end good left on the environment, per component, read as
 * `slipway status` reads it. A failed run put back what it changed and a refused one changed
 * nothing: neither leaves a trace here; one that failed with auto-rollback off left what it
 * deployed unverified (its description says so first), so its components are unknown. A cancelled run leaves the components it finished at
 * its version and those it was stopped in the middle of unknown; a run still in progress, or
 * one that died holding the lock (released by hand, or taken over as stale), leaves every
 * component it was deploying unknown.
 */
import { cancelledComponents } from './cancelled.js';
import { endedGood, type DeploymentEntry } from './record.js';

/** What a run that did not end good left of one component. */
export interface Interrupted {
  /** The deployment that left it so. */
  entry: DeploymentEntry;
  /** The version that run was moving it to: what may run now. */
  version: string;
  /** Why what runs is not known; absent when the run finished this component (it runs `version`). */
  unknown?: string;
}

/**
 * How a failed deploy's record starts when auto-rollback was off: what it deployed was left
 * running, unverified. First, so the 140-character cut of a description never drops it.
 */
export const LEFT_AS_IS = 'left as it is (auto-rollback off): ';

/** A run that died holding the lock: released by hand while in progress, or taken over as stale. */
const ABANDONED = /^(?:lock released by hand .*\(was in_progress\)|stale: )/;

/** What `e` left of `component` when `e` did not end good; null when it ended good or left nothing. */
export function leftBy(e: DeploymentEntry, component: string): Interrupted | null {
  const version = e.versions[component];
  if (version === undefined || endedGood(e.state)) return null;
  const verb = e.task === 'deploy:rollback' ? 'rolling back to' : 'deploying';
  const cancelled = cancelledComponents(e);
  if (cancelled) {
    if (component in cancelled.done) return { entry: e, version };
    if (!(component in cancelled.stopped)) return null;
    return {
      entry: e,
      version,
      unknown: `cancelled (${cancelled.signal}) while ${verb} ${version} (deployment #${e.id})`,
    };
  }
  if (e.state === 'failure' && (e.description ?? '').startsWith(LEFT_AS_IS))
    return {
      entry: e,
      version,
      unknown: `deployment #${e.id} of ${version} failed and was left as it is (auto-rollback off)`,
    };
  if (e.state === 'in_progress')
    return { entry: e, version, unknown: `deployment #${e.id} of ${version} is in progress` };
  if (e.state === 'error' && ABANDONED.test(e.description ?? ''))
    return {
      entry: e,
      version,
      unknown: `deployment #${e.id} of ${version} stopped without finishing (${e.description})`,
    };
  return null;
}

/**
 * Per component, what the newest run that left something on it left, when that run did not
 * end good (history newest first): such a component does not run its last good version, or
 * runs a version nobody knows. Components whose newest trace is a good deployment are absent.
 */
export function interruptedComponents(history: readonly DeploymentEntry[]): Record<string, Interrupted> {
  const out: Record<string, Interrupted> = {};
  const settled = new Set<string>();
  for (const e of history)
    for (const component of Object.keys(e.versions)) {
      if (settled.has(component)) continue;
      if (endedGood(e.state)) {
        settled.add(component);
        continue;
      }
      const left = leftBy(e, component);
      if (!left) continue;
      out[component] = left;
      settled.add(component);
    }
  return out;
}
