/**
 * What a notification says, independent of where it goes: the event, where it happened,
 * which versions moved, who started it, and the links. Each channel renders this one model.
 */
import type { NOTIFY_EVENTS } from '../core/config.js';

/** The events a channel can subscribe to. */
type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** One component's version before and after the run. */
interface VersionMove {
  component: string;
  /** '' when the environment had no recorded version. */
  from: string;
  to: string;
}

/** What happened, for the message. */
export interface Notification {
  event: NotifyEvent;
  /** One line, e.g. "Deploy to production: rolled-back". */
  title: string;
  /** Details in plain text (a failure's cause, release notes). */
  text?: string;
  /** A link for the whole message (the release, or the run). */
  url?: string;
  /** Extra facts shown as label/value pairs. */
  fields?: Record<string, string>;
  environment?: string;
  /** How the run ended (success, rolled-back, failed), when it ended. */
  status?: string;
  versions?: VersionMove[];
  /** Who started the run; filled from the runner's environment when absent. */
  actor?: string;
  /** The workflow run's page; filled from the runner's environment when absent. */
  runUrl?: string;
  environmentUrl?: string;
  /** The component whose step failed. */
  failedComponent?: string;
  /** After a failure: true when the rollback restored every component, false when it did not. */
  rollbackHeld?: boolean;
}

/** A label and its value, in the order a reader wants them. */
export interface Fact {
  label: string;
  value: string;
}

/** A titled link. */
export interface Link {
  label: string;
  url: string;
}

/** The runner's facts about the run: who started it and where its log is. */
export function withRunContext(n: Notification, env: Record<string, string | undefined>): Notification {
  const actor = n.actor || env.GITHUB_TRIGGERING_ACTOR || env.GITHUB_ACTOR || undefined;
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = env;
  const runUrl = n.runUrl || (server && repo && run ? `${server}/${repo}/actions/runs/${run}` : undefined);
  return { ...n, actor, runUrl };
}

/** "1.2.0 → 1.3.0", "(none) → 1.3.0". */
function moveText(v: VersionMove): string {
  return `${v.from || '(none)'} → ${v.to}`;
}

/** The facts every channel shows, in one order. */
export function facts(n: Notification): Fact[] {
  const out: Fact[] = [];
  if (n.environment) out.push({ label: 'Environment', value: n.environment });
  if (n.status) out.push({ label: 'Status', value: n.status });
  for (const v of n.versions ?? []) out.push({ label: v.component, value: moveText(v) });
  if (n.failedComponent) out.push({ label: 'Failed component', value: n.failedComponent });
  if (n.rollbackHeld !== undefined)
    out.push({
      label: 'Rollback',
      value: n.rollbackHeld ? 'held: the previous versions run again' : 'did not hold: check the environment',
    });
  if (n.actor) out.push({ label: 'Started by', value: n.actor });
  for (const [label, value] of Object.entries(n.fields ?? {})) out.push({ label, value });
  return out;
}

/** The links every channel shows: the run, the environment, and the message's own. */
export function links(n: Notification): Link[] {
  const out: Link[] = [];
  if (n.runUrl) out.push({ label: 'Run', url: n.runUrl });
  if (n.environmentUrl) out.push({ label: 'Environment', url: n.environmentUrl });
  if (n.url && n.url !== n.runUrl && n.url !== n.environmentUrl) out.push({ label: 'Details', url: n.url });
  return out;
}

/** The message as plain text: title, details, facts and links. */
export function plainText(n: Notification): string {
  const lines = [n.title];
  if (n.text) lines.push('', n.text);
  const f = facts(n);
  if (f.length) lines.push('', ...f.map((x) => `${x.label}: ${x.value}`));
  const l = links(n);
  if (l.length) lines.push('', ...l.map((x) => `${x.label}: ${x.url}`));
  return lines.join('\n');
}

/** `text` cut to `max` characters, ending with an ellipsis when cut. */
export function cut(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
