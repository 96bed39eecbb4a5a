/** `slipway status --environment E`: what runs where, from the deployment record. */
import { loadConfig } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { table } from '../core/markdown.js';
import { knownEnvironment } from '../deploy/environments.js';
import { cancelledComponents } from '../deploy/record/cancelled.js';
import { FileLedger } from '../deploy/record/file-ledger.js';
import { leftBy } from '../deploy/record/interrupted.js';
import { endedGood, type DeploymentEntry } from '../deploy/record/record.js';
import type { Command } from './main.js';

/** One row: a component's running version, from which deployment. */
interface RunningVersion {
  component: string;
  /** null when a deployment that did not finish (cancelled, still in progress, abandoned) leaves it unknown. */
  version: string | null;
  at: string;
  sha: string;
  /** Who deployed it: the GitHub actor or the local user. */
  by: string;
  task: string;
  /** What is known when the version is not simply the last good one. */
  note?: string;
}

/** What a deployment that did not end good left of `component`: unknown, finished, or nothing it changed. */
function leftBehind(e: DeploymentEntry, component: string): { unknown: string } | { done: string } | null {
  // The rule a manual rollback reads too (record/interrupted.ts): one answer to "what runs".
  const left = leftBy(e, component);
  if (!left) return null;
  if (left.unknown) return { unknown: left.unknown };
  return { done: `which was cancelled (${cancelledComponents(e)?.signal ?? 'cancelled'}) afterwards` };
}

/**
 * The version each component runs: that of the newest deployment that included it and
 * ended good — unless a newer one was cancelled or abandoned while deploying it, or is
 * still in progress: then it is unknown, and the row says why and what ran before.
 */
function runningVersions(history: DeploymentEntry[]): RunningVersion[] {
  // The record lists the newest first; rows come in the order components were first deployed.
  const names = [...new Set([...history].reverse().flatMap((e) => Object.keys(e.versions)))];
  const row = (component: string, e: DeploymentEntry, version: string | null, note?: string): RunningVersion => ({
    component,
    version,
    at: e.updatedAt,
    sha: e.sha.slice(0, 7),
    by: e.creator || 'unknown',
    task: e.task,
    ...(note ? { note } : {}),
  });
  const rows: RunningVersion[] = [];
  for (const component of names) {
    let unknown: { entry: DeploymentEntry; why: string } | undefined;
    let known: RunningVersion | undefined;
    for (const e of history) {
      if (!(component in e.versions)) continue;
      const left = endedGood(e.state) ? { done: '' } : leftBehind(e, component);
      if (!left) continue;
      if ('unknown' in left) {
        unknown ??= { entry: e, why: left.unknown };
        continue;
      }
      known = row(component, e, e.versions[component], left.done && `deployed by #${e.id}, ${left.done}`);
      break;
    }
    if (unknown) {
      const before = known ? `ran ${known.version} before` : 'nothing recorded before';
      rows.push(row(component, unknown.entry, null, `${unknown.why}; ${before}`));
    } else if (known) rows.push(known);
  }
  return rows;
}

export const command: Command = {
  name: 'status',
  summary: 'Show what runs where: each component’s version, when, from which commit, and who deployed it.',
  usage: [
    'Usage: slipway status --environment NAME [--config FILE] [--json]',
    '',
    'Reads the deployment record (.slipway/deployments.json, written by local deploys). A component a',
    'cancelled or unfinished deployment was deploying shows version "unknown", with what is known.',
  ].join('\n'),
  flags: ['environment', 'config'],
  async run({ flags, cwd, term }) {
    if (!flags.environment || flags.environment === 'true')
      throw new UserError('--environment is required: the environment to show (e.g. production)');
    const config = await loadConfig(cwd, flags.config ?? '');
    const environment = knownEnvironment(config, flags.environment, '--environment');
    const history = await new FileLedger(cwd).history(environment);
    const rows = runningVersions(history);
    if (flags.json === 'true') {
      process.stdout.write(`${JSON.stringify({ environment, components: rows }, null, 2)}\n`);
      return 0;
    }
    if (!rows.length) {
      term.line(`Nothing recorded as deployed to ${environment}.`);
      return 0;
    }
    const last = [...history].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0];
    const notes = rows.some((r) => r.note);
    process.stdout.write(
      `${table(
        ['component', 'version', 'deployed at', 'commit', 'by', 'task', ...(notes ? ['note'] : [])],
        rows.map((r) => [
          r.component,
          r.version ?? 'unknown',
          r.at,
          r.sha,
          r.by,
          r.task,
          ...(notes ? [r.note ?? ''] : []),
        ]),
      )}\n`,
    );
    if (last && last.state !== 'success')
      term.line(
        term.color(
          'yellow',
          `Last deployment #${last.id}: ${last.state}${last.description ? ` — ${last.description}` : ''}`,
        ),
      );
    return 0;
  },
};
