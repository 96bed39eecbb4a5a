/**
 * The base of a dispatch or scheduled run with an `environment`: the commit whose versions
 * the environment runs now, read from deploy's own record (GitHub Deployments with a
 * token, the `.slipway/` ledger without one) — the record deploy writes, opened the way
 * deploy opens it.
 */
import type { Runtime } from '../core/runtime.js';
import { FileLedger, LEDGER_PATH } from '../deploy/record/file-ledger.js';
import { chooseRecord } from '../deploy/record/open.js';
import { endedGood, type DeploymentEntry, type DeploymentRecord } from '../deploy/record/record.js';
import type { DeploymentLookup } from './base.js';

/** What the environment runs, and which deployment says so. */
interface DeployedCommit {
  sha: string;
  /** One line for the log: which deployment (and, after a rollback, which earlier one). */
  why: string;
}

/**
 * The commit of the environment's last successful deployment, from its history (newest
 * first). Failed, errored, queued and in-progress deployments are skipped. A manual
 * rollback records the commit it ran from, not the one it put back, so after a rollback
 * the answer is the commit of the earlier deployment that shipped the versions now running
 * (the oldest of them when components went back to different deployments). Null when
 * nothing good is recorded, or a rollback's versions cannot be traced to a deployment.
 */
function deployedCommit(history: readonly DeploymentEntry[]): DeployedCommit | null {
  const index = history.findIndex((e) => endedGood(e.state));
  if (index < 0) return null;
  const last = history[index];
  if (last.task !== 'deploy:rollback')
    return { sha: last.sha, why: `deployment #${last.id} (${last.state}, ${describeVersions(last.versions)})` };
  const older = history.slice(index + 1).filter((e) => endedGood(e.state) && e.task === 'deploy');
  // Each component's version is traced to its own deployment; the log names each of them.
  const shipped = new Map<DeploymentEntry, Record<string, string>>();
  for (const [component, version] of Object.entries(last.versions)) {
    const from = older.find((e) => e.versions[component] === version);
    if (!from) return null;
    shipped.set(from, { ...shipped.get(from), [component]: version });
  }
  // The older the deployment, the more a diff from it covers: take the oldest one needed.
  const origin = [...shipped.keys()].sort((a, b) => older.indexOf(b) - older.indexOf(a))[0];
  if (!origin) return null;
  const parts = [...shipped].map(([e, versions]) => `${describeVersions(versions)}, shipped by deployment #${e.id}`);
  return {
    sha: origin.sha,
    why: `rollback #${last.id} put back ${parts.join('; ')}${parts.length > 1 ? ` (the base is #${origin.id}'s commit, the oldest)` : ''}`,
  };
}

/** Read the environment's deployments from `record` and answer with deployedCommit. */
function lookupIn(record: (environment: string) => DeploymentRecord, log: Runtime['log']): DeploymentLookup {
  return async (environment) => {
    const opened = record(environment);
    const history = await opened.history(environment);
    const found = deployedCommit(history);
    if (found) log.info(`${opened.name}: ${environment} runs ${found.sha.slice(0, 7)} — ${found.why}.`);
    else
      log.info(
        `${opened.name}: ${history.length ? `no successful deployment to ${environment} that can be traced to a commit` : `no deployment to ${environment}`}.`,
      );
    return found?.sha ?? null;
  };
}

/** The lookup over deploy's record: GitHub Deployments when `token` is set, else the ledger. */
export function deploymentLookup(rt: Runtime, token: string): DeploymentLookup {
  // Opened on first use: a run without `environment` never needs a client or the ledger.
  return lookupIn((environment) => (token ? chooseRecord({ token }, rt) : localLedger(rt, environment)), rt.log);
}

/**
 * The ledger chooseRecord opens without a token, announced in build-selective's words: deploy's
 * notice is about where it writes, its lock and rollbacks, none of which a read has. What a
 * read without a token loses is the comparison with what the environment runs.
 */
function localLedger(rt: Runtime, environment: string): DeploymentRecord {
  const where = `No token: the last deployment to ${environment} is not read from GitHub Deployments, only from ${LEDGER_PATH} of this workspace`;
  if (rt.env.GITHUB_ACTIONS === 'true')
    rt.log.warning(
      `${where}, which on a runner starts empty with each job: the base is usually the previous tag, not the commit ${environment} runs. Set token (the default, \${{ github.token }}, needs permissions: deployments: read).`,
    );
  else rt.log.info(`${where}.`);
  return new FileLedger(rt.cwd);
}

function describeVersions(versions: Record<string, string>): string {
  const list = Object.entries(versions).map(([c, v]) => `${c}@${v}`);
  return list.length ? list.join(', ') : 'no versions recorded';
}
