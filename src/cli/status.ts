/** `slipway status --environment E`: what runs where, from the deployment record. */
import { UserError } from '../core/errors.js';
import { table } from '../core/markdown.js';
import { FileLedger } from '../deploy/record/file-ledger.js';
import type { DeploymentEntry } from '../deploy/record/record.js';
import type { Command } from './main.js';

/** One row: a component's running version, from which deployment. */
interface RunningVersion {
  component: string;
  version: string;
  at: string;
  sha: string;
  /** Who deployed it: the GitHub actor or the local user. */
  by: string;
  task: string;
}

/** The version each component runs: the newest successful deployment that included it. */
function runningVersions(history: DeploymentEntry[]): RunningVersion[] {
  const rows = new Map<string, RunningVersion>();
  const ok = history.filter((e) => e.state === 'success').sort((a, b) => a.updatedAt.localeCompare(b.updatedAt));
  for (const e of ok) {
    for (const [component, version] of Object.entries(e.versions)) {
      rows.set(component, {
        component,
        version,
        at: e.updatedAt,
        sha: e.sha.slice(0, 7),
        by: e.creator || 'unknown',
        task: e.task,
      });
    }
  }
  return [...rows.values()];
}

export const command: Command = {
  name: 'status',
  summary: 'Show what runs where: each component’s version, when, from which commit, and who deployed it.',
  usage:
    'Usage: slipway status --environment NAME [--json]\n\nReads the deployment record (.slipway/deployments.json, written by local deploys).',
  async run({ flags, cwd, term }) {
    const environment = flags.environment;
    if (!environment || environment === 'true')
      throw new UserError('--environment is required: the environment to show (e.g. production)');
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
    process.stdout.write(
      `${table(
        ['component', 'version', 'deployed at', 'commit', 'by', 'task'],
        rows.map((r) => [r.component, r.version, r.at, r.sha, r.by, r.task]),
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
