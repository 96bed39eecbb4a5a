/**
 * The deployment record: what ran where, and the lock that keeps two deployments to one
 * environment apart. GitHub Deployments on a runner (record/github.ts); a JSON ledger in
 * `.slipway/` for the CLI and the demo (record/file-ledger.ts). Both keep the same rules:
 * wait while another deployment to the environment is queued or in progress, and take
 * over from one older than the TTL after marking it `error`.
 */
import type { Logger } from '../../core/runtime.js';

/** The states of GitHub's deployment statuses, which the ledger shares. */
export type DeploymentState = 'queued' | 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

/** `deploy` for a rollout, `deploy:rollback` for a manual rollback. */
export type DeploymentTask = 'deploy' | 'deploy:rollback';

/** One deployment as recorded. */
export interface DeploymentEntry {
  id: string;
  environment: string;
  task: DeploymentTask;
  ref: string;
  sha: string;
  /** Component → version this deployment put (or meant to put) on the environment. */
  versions: Record<string, string>;
  state: DeploymentState;
  /** Who started it (the actor or the local user). */
  creator: string;
  createdAt: string;
  /** When its state last changed. */
  updatedAt: string;
  description?: string;
  environmentUrl?: string;
  logUrl?: string;
}

/** What a run registers when it starts. */
export interface BeginRequest {
  environment: string;
  task: DeploymentTask;
  ref: string;
  sha: string;
  versions: Record<string, string>;
  creator: string;
  description: string;
  environmentUrl?: string;
  logUrl?: string;
}

/** How long to wait for the environment and when a holder is stale. */
export interface LockOptions {
  timeoutMs: number;
  ttlMs: number;
  log: Logger;
  /** The first delay between polls (doubles up to 5 s). */
  pollMs?: number;
}

/** How a run ends. */
export interface FinishRequest {
  state: Extract<DeploymentState, 'success' | 'failure' | 'error'>;
  description: string;
  environmentUrl?: string;
  logUrl?: string;
}

/** Where deployments are recorded and locked. */
export interface DeploymentRecord {
  /** Shown in logs: "GitHub Deployments" or the ledger's path. */
  readonly name: string;
  /** The environment's deployments, newest first. */
  history(environment: string): Promise<DeploymentEntry[]>;
  /** Wait for the environment (see LockOptions), then record this run as in_progress. */
  begin(request: BeginRequest, lock: LockOptions): Promise<DeploymentEntry>;
  /**
   * Show that this run's deployment is still alive (a fresh timestamp on its in_progress
   * state), so a run waiting for the lock does not take it over as stale. False when it is
   * no longer in progress (another run took it over).
   */
  heartbeat(id: string, request: HeartbeatRequest): Promise<boolean>;
  /** Move this run's deployment to its final state. */
  finish(id: string, request: FinishRequest): Promise<void>;
}

/** What a heartbeat repeats of the in_progress state. */
export interface HeartbeatRequest {
  description: string;
  environmentUrl?: string;
  logUrl?: string;
}

/** States that mean "was running fine": GitHub turns a superseded success into `inactive`. */
export function endedGood(state: DeploymentState): boolean {
  return state === 'success' || state === 'inactive';
}

/** States that hold the environment's lock. */
export function holdsLock(state: DeploymentState): boolean {
  return state === 'queued' || state === 'in_progress';
}

/** A holder's description for logs: "#12 by alice since 2024-...". */
export function describeHolder(e: DeploymentEntry): string {
  return `#${e.id} by ${e.creator || 'unknown'} (${e.task}, since ${e.createdAt})`;
}

/** Per component, the version of the newest good deployment that included it. */
export function lastGoodVersions(history: readonly DeploymentEntry[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of history) {
    if (!endedGood(e.state)) continue;
    for (const [c, v] of Object.entries(e.versions)) if (!(c in out)) out[c] = v;
  }
  return out;
}

/** The longest description a deployment keeps (GitHub's limit). */
const DESCRIPTION_MAX = 140;

/** `text` cut to what the record keeps, with an ellipsis when cut, so a reader sees it goes on in the log. */
export function fitDescription(text: string): string {
  return text.length <= DESCRIPTION_MAX ? text : `${text.slice(0, DESCRIPTION_MAX - 1).trimEnd()}…`;
}
