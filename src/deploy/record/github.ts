/**
 * The record on a runner: GitHub Deployments. Each run creates a deployment (auto_merge
 * false and no required contexts, or GitHub refuses it on a branch with pending checks)
 * whose payload holds each component's version, and moves it through in_progress to
 * success, failure or error. The lock: wait while an earlier deployment to the environment
 * is queued or in progress; one not updated for lock-ttl is marked error and passed.
 *
 * Only Slipway's own deployments count: their payload carries `slipway: RECORD_FORMAT`.
 * GitHub itself creates a deployment for every job that names an `environment:` (task
 * `deploy`, empty payload, in progress while the job runs, so also while this action runs),
 * and other tools create theirs; none of them holds the lock or supplies versions.
 */
import { cancelReason, isCancelled, onCancel } from '../../core/cancel.js';
import { errorMessage, oneLine } from '../../core/errors.js';
import { duration } from '../../core/markdown.js';
import { waitForLock, type LockLook } from './lock-wait.js';
import {
  describeHolder,
  holdsLock,
  fitDescription,
  type BeginRequest,
  type DeploymentEntry,
  type DeploymentRecord,
  type DeploymentState,
  type FinishRequest,
  type HeartbeatRequest,
  type LockOptions,
} from './record.js';

/** A deployment as the API lists it, with its latest status. */
export interface ApiDeployment {
  id: number;
  environment: string;
  task: string;
  ref: string;
  sha: string;
  payload: unknown;
  creator: string;
  createdAt: string;
  description: string | null;
  /** The latest status; null when it has none yet (GitHub shows it as pending). */
  status: { state: string; updatedAt: string; description: string; environmentUrl: string; logUrl: string } | null;
}

/** The Deployments API calls the record needs (src/github/deployments.ts provides them). */
export interface DeploymentsApi {
  create(input: {
    environment: string;
    ref: string;
    task: string;
    payload: Record<string, unknown>;
    description: string;
  }): Promise<ApiDeployment>;
  /** Add a status; returns its creation time on GitHub's clock. */
  setStatus(
    id: number,
    input: { state: DeploymentState; description: string; environmentUrl?: string; logUrl?: string },
  ): Promise<string>;
  /** The state of a deployment's latest status (null when it has none). */
  latestState(id: number): Promise<string | null>;
  /**
   * The newest `limit` deployments of the environment, newest first, each with its latest
   * status; only those `keep` accepts are returned (and only theirs statuses are read).
   */
  list(
    environment: string,
    limit: number,
    keep?: (d: { task: string; payload: unknown }) => boolean,
  ): Promise<ApiDeployment[]>;
}

/**
 * How long after taking the lock a run marks its deployment in_progress (until then it is
 * pending, which holds the lock all the same): twice the second GitHub asks between writes,
 * so a run shorter than that writes only its creation and its final state.
 */
const START_DELAY_MS = 2_000;

/**
 * How many of an environment's newest deployments are read for history and the lock (one
 * page): each run inside a job with `environment:` adds two, the job's and ours.
 */
const HISTORY_LIMIT = 100;

const TASKS = new Set(['deploy', 'deploy:rollback']);

/** The payload key that marks a deployment as Slipway's, and the record format it was written in. */
const RECORD_MARKER = 'slipway';
/** The record format Slipway writes (the value under RECORD_MARKER). */
const RECORD_FORMAT = 1;

/** True when a deployment's payload is one Slipway wrote (any format this version reads). */
function isSlipwayPayload(payload: unknown): boolean {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return false;
  const marker = (payload as Record<string, unknown>)[RECORD_MARKER];
  return typeof marker === 'number' && Number.isInteger(marker) && marker >= 1;
}

/** Whether a listed deployment belongs to the record: ours, and a task we write. */
function isRecordDeployment(d: { task: string; payload: unknown }): boolean {
  return TASKS.has(d.task) && isSlipwayPayload(d.payload);
}

/** Turn an API deployment into a record entry. */
function toEntry(d: ApiDeployment): DeploymentEntry {
  const payload = (d.payload && typeof d.payload === 'object' ? d.payload : {}) as { versions?: unknown };
  const versions: Record<string, string> = {};
  if (payload.versions && typeof payload.versions === 'object')
    for (const [k, v] of Object.entries(payload.versions)) if (typeof v === 'string') versions[k] = v;
  const state = (d.status?.state === 'pending' || !d.status ? 'queued' : d.status.state) as DeploymentState;
  return {
    id: String(d.id),
    environment: d.environment,
    task: d.task as DeploymentEntry['task'],
    ref: d.ref,
    sha: d.sha,
    versions,
    state,
    creator: d.creator,
    createdAt: d.createdAt,
    updatedAt: d.status?.updatedAt ?? d.createdAt,
    description: d.status?.description || d.description || undefined,
    environmentUrl: d.status?.environmentUrl || undefined,
    logUrl: d.status?.logUrl || undefined,
  };
}

/** GitHub Deployments as the deployment record. */
export class GitHubRecord implements DeploymentRecord {
  readonly name = 'GitHub Deployments';
  private readonly now: () => number;
  /** The in_progress write of each deployment begun here: cancel it unless sent, or wait until it has landed. */
  private readonly starting = new Map<string, { write: Promise<void>; cancel: () => boolean }>();
  private readonly startDelayMs: number;
  /** The history the last lock check read, handed to the next history() of that environment. */
  private readonly lockRead = new Map<string, DeploymentEntry[]>();

  constructor(
    private readonly api: DeploymentsApi,
    options: { now?: () => number; startDelayMs?: number } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.startDelayMs = options.startDelayMs ?? START_DELAY_MS;
  }

  /** The environment's deploy and deploy:rollback deployments that Slipway wrote, newest first. */
  async history(environment: string): Promise<DeploymentEntry[]> {
    const fresh = this.lockRead.get(environment);
    if (fresh) {
      this.lockRead.delete(environment);
      return fresh;
    }
    return this.read(environment);
  }

  private async read(environment: string): Promise<DeploymentEntry[]> {
    return (await this.api.list(environment, HISTORY_LIMIT, isRecordDeployment))
      .filter(isRecordDeployment)
      .map(toEntry);
  }

  /** Create this run's deployment, wait for the earlier ones, then mark it in_progress (without waiting for that write). */
  async begin(request: BeginRequest, lock: LockOptions): Promise<DeploymentEntry> {
    const created = await this.api.create({
      environment: request.environment,
      ref: request.sha || request.ref,
      task: request.task,
      payload: {
        [RECORD_MARKER]: RECORD_FORMAT,
        versions: request.versions,
        ref: request.ref,
        creator: request.creator,
      },
      description: request.description,
    });
    const mine = created.id;
    // Cancelled while queued: a queued deployment would hold the environment until lock-ttl.
    const releaseOnCancel = onCancel(async () => {
      await this.api.setStatus(mine, {
        state: 'error',
        description: `cancelled (${cancelReason()}) before it started`,
      });
    });
    try {
      return await this.waitAndStart(mine, created, request, lock);
    } catch (err) {
      if (isCancelled()) throw err;
      // A deployment left queued would hold the environment until lock-ttl: close it first.
      await this.api
        .setStatus(mine, {
          state: 'error',
          description: fitDescription(`did not start: ${oneLine(errorMessage(err))}`),
        })
        .catch(() => undefined);
      throw err;
    } finally {
      releaseOnCancel();
    }
  }

  private async waitAndStart(
    mine: number,
    created: ApiDeployment,
    request: BeginRequest,
    lock: LockOptions,
  ): Promise<DeploymentEntry> {
    // No `queued` status: a deployment without a status is pending on GitHub, and holds the
    // lock as queued does (toEntry), so the first write after the creation is in_progress.
    const started = this.now();
    // Ages are measured on GitHub's clock (the runner's may be off): our deployment's creation time plus what elapsed here.
    const serverNow = () => (Date.parse(created.createdAt) || started) + (this.now() - started);
    const look = async (): Promise<LockLook<true>> => {
      let holder: DeploymentEntry | undefined;
      let tookOver = false;
      const seen = await this.read(request.environment);
      for (const e of seen) {
        // Earlier deployments go first; a later one waits for this one.
        if (Number(e.id) >= mine || !holdsLock(e.state)) continue;
        const age = serverNow() - Date.parse(e.updatedAt);
        if (age > lock.ttlMs) {
          lock.log.warning(
            `Deployment ${describeHolder(e)} to ${e.environment} has held the lock for ${duration(age)}, more than lock-ttl: marking it error and going on.`,
          );
          await this.api.setStatus(Number(e.id), {
            state: 'error',
            description: fitDescription(`stale: no progress for ${duration(age)}; taken over by ${request.creator}`),
          });
          tookOver = true;
        } else holder ??= e;
      }
      if (holder) return { holder };
      // The caller reads the history again once it holds the lock: this read is that one,
      // unless a takeover changed it since.
      if (!tookOver) this.lockRead.set(request.environment, seen);
      return { free: true };
    };
    await waitForLock(look, {
      environment: request.environment,
      lock,
      firstDelayMs: 1_000,
      maxDelayMs: 15_000,
      elapsed: () => this.now() - started,
    });
    // Off the critical path: the deployment holds the lock from its creation (pending counts
    // as queued), so no component waits for this write. It is sent only once the run has gone
    // on for startDelayMs: GitHub asks for a second between writes, and a short run's three
    // writes (create, in_progress, final) would keep it waiting at the end. heartbeat and
    // finish cancel it or wait for it, so the statuses keep their order.
    let cancel!: () => boolean;
    const write = new Promise<void>((resolve) => {
      let sent = false;
      const timer = setTimeout(() => {
        sent = true;
        void this.api
          .setStatus(mine, {
            state: 'in_progress',
            description: request.description,
            environmentUrl: request.environmentUrl,
            logUrl: request.logUrl,
          })
          .then(
            () => undefined,
            (err) => lock.log.warning(`Could not mark deployment #${mine} in progress: ${oneLine(errorMessage(err))}`),
          )
          .then(resolve);
      }, this.startDelayMs);
      // Nothing to mark when the process is otherwise done: finish cancels or awaits it.
      timer.unref();
      cancel = () => {
        if (sent) return false;
        clearTimeout(timer);
        resolve();
        return true;
      };
    });
    this.starting.set(String(mine), { write, cancel });
    const now = new Date(this.now()).toISOString();
    return {
      ...toEntry(created),
      versions: request.versions,
      creator: request.creator,
      state: 'in_progress',
      updatedAt: now,
    };
  }

  /**
   * The delayed in_progress write: cancelled if not sent yet (the caller's own write takes
   * its place), else waited for. True when it was cancelled unsent.
   */
  private async settleStart(id: string): Promise<boolean> {
    this.lockRead.clear();
    const start = this.starting.get(id);
    if (!start) return false;
    this.starting.delete(id);
    const unsent = start.cancel();
    await start.write;
    return unsent;
  }

  /** A new in_progress status: its time is what the lock's age is measured from. */
  async heartbeat(id: string, request: HeartbeatRequest): Promise<boolean> {
    const unsent = await this.settleStart(id);
    // A run that took this one over marked it error: an in_progress status now would revive it.
    const state = await this.api.latestState(Number(id));
    if (state !== 'in_progress' && !(unsent && state === null)) return false;
    await this.api.setStatus(Number(id), {
      state: 'in_progress',
      description: request.description,
      environmentUrl: request.environmentUrl,
      logUrl: request.logUrl,
    });
    return true;
  }

  /** Move this run's deployment to its final state. */
  async finish(id: string, request: FinishRequest): Promise<void> {
    await this.settleStart(id);
    await this.api.setStatus(Number(id), {
      state: request.state,
      description: request.description,
      environmentUrl: request.environmentUrl,
      logUrl: request.logUrl,
    });
  }
}
