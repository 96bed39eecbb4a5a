/**
 * What a cancelled run says in its record, and what `slipway status` reads back from it. The
 * record keeps one state per deployment (a cancelled one ends `error`), but a cancelled run
 * may have finished some components, been stopped in the middle of others (their version is
 * then unknown: the new one may already serve) and not started the rest; the description
 * names the first two, in a form this module parses.
 */
import type { DeploymentEntry } from './record.js';

/** Which components a cancelled run stopped in the middle of, and which it had finished: component → version. */
export interface CancelledComponents {
  stopped: Record<string, string>;
  done: Record<string, string>;
}

/** The longest description the record keeps (GitHub's limit). */
const MAX = 140;

const list = (m: Record<string, string>) =>
  Object.entries(m)
    .map(([name, version]) => `${name}@${version}`)
    .join(', ');

/**
 * The description of a run cancelled by `signal`, e.g. `cancelled (SIGINT) while deploying
 * api@1.1.0 (done: db@3)`. When the lists do not fit, they are left out, and a reader must
 * take every component of the deployment as unknown.
 */
export function cancelledDescription(signal: string, mode: 'deploy' | 'rollback', c: CancelledComponents): string {
  const stopped = Object.keys(c.stopped).length;
  const done = Object.keys(c.done).length;
  const head = `cancelled (${signal})`;
  const verb = mode === 'rollback' ? 'rolling back' : 'deploying';
  const what = stopped
    ? ` while ${verb} ${list(c.stopped)}`
    : done
      ? ' between steps'
      : ' before any component started';
  const full = `${head}${what}${done ? ` (done: ${list(c.done)})` : ''}`;
  if (full.length <= MAX) return full;
  return `${head} while ${verb} ${stopped + done} components (too many to name here; see the run's log)`.slice(0, MAX);
}

/** `a@1, b@2` → { a: '1', b: '2' }, or null when it is not such a list. */
function parseList(text: string): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const item of text.split(', ')) {
    const m = /^([A-Za-z0-9][A-Za-z0-9_.-]*)@([A-Za-z0-9][A-Za-z0-9_.+-]*)$/.exec(item);
    if (!m) return null;
    out[m[1]] = m[2];
  }
  return out;
}

/**
 * What a cancelled deployment left, read from its description: null when it was not
 * cancelled. A description this module did not write the lists of (an older record, a list
 * that did not fit) makes every component of the deployment `stopped`: nothing is known.
 */
export function cancelledComponents(entry: DeploymentEntry): (CancelledComponents & { signal: string }) | null {
  const text = entry.description ?? '';
  const head = /^cancelled \(([A-Z]+)\)/.exec(text);
  if (entry.state !== 'error' || !head) return null;
  const signal = head[1];
  const rest = text.slice(head[0].length);
  if (rest === ' before any component started' || rest === ' before it started')
    return { signal, stopped: {}, done: {} };
  const m = /^ (?:while (?:deploying|rolling back) (.+?)|between steps)(?: \(done: (.+)\))?$/.exec(rest);
  const stopped = m ? (m[1] === undefined ? {} : parseList(m[1])) : null;
  const done = m ? (m[2] === undefined ? {} : parseList(m[2])) : null;
  if (!stopped || !done) return { signal, stopped: { ...entry.versions }, done: {} };
  return { signal, stopped, done };
}
