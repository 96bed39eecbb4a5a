/**
 * GitHub Deployments as the record of what runs where: a deployment per (environment,
 * version) with the deployed SHA and a payload, and statuses that say how it went. The
 * deployment whose latest status is `success` is what the environment runs now.
 */
import type { RepoClient } from './client.js';

/** The states a deployment status can have. */
export type DeploymentState = 'error' | 'failure' | 'inactive' | 'in_progress' | 'queued' | 'pending' | 'success';

/** A deployment, as the helpers return it. */
export interface DeploymentInfo {
  id: number;
  sha: string;
  ref: string;
  task: string;
  environment: string;
  /** The payload given at creation (an object; `{}` when none). */
  payload: Record<string, unknown>;
  description: string | null;
  createdAt: string;
}

/** One status of a deployment. */
export interface DeploymentStatusInfo {
  id: number;
  state: DeploymentState;
  description: string;
  environmentUrl: string;
  logUrl: string;
  createdAt: string;
}

/** What a new deployment records. */
export interface NewDeployment {
  /** The branch, tag or SHA deployed; GitHub resolves it to `sha`. */
  ref: string;
  environment: string;
  /** Default `deploy`. */
  task?: string;
  payload?: Record<string, unknown>;
  description?: string;
  productionEnvironment?: boolean;
  transientEnvironment?: boolean;
}

type RawDeployment = {
  id: number;
  sha: string;
  ref: string;
  task: string;
  environment: string;
  payload: unknown;
  description?: string | null;
  created_at: string;
};
type RawStatus = {
  id: number;
  state: string;
  description?: string | null;
  environment_url?: string;
  log_url?: string;
  target_url?: string;
  created_at: string;
};

function toDeployment(d: RawDeployment): DeploymentInfo {
  let payload: unknown = d.payload;
  if (typeof payload === 'string') {
    try {
      payload = payload ? JSON.parse(payload) : {};
    } catch {
      payload = { value: payload };
    }
  }
  return {
    id: d.id,
    sha: d.sha,
    ref: d.ref,
    task: d.task,
    environment: d.environment,
    payload:
      payload && typeof payload === 'object' && !Array.isArray(payload) ? (payload as Record<string, unknown>) : {},
    description: d.description ?? null,
    createdAt: d.created_at,
  };
}

function toStatus(s: RawStatus): DeploymentStatusInfo {
  return {
    id: s.id,
    state: s.state as DeploymentState,
    description: s.description ?? '',
    environmentUrl: s.environment_url ?? '',
    logUrl: s.log_url ?? s.target_url ?? '',
    createdAt: s.created_at,
  };
}

/**
 * Record a deployment. It is never blocked by the ref's commit statuses or merged with the
 * default branch: the pipeline has already decided what to deploy.
 */
export async function createDeployment(gh: RepoClient, d: NewDeployment): Promise<DeploymentInfo> {
  const res = await gh.octokit.rest.repos.createDeployment({
    owner: gh.owner,
    repo: gh.repo,
    ref: d.ref,
    environment: d.environment,
    task: d.task ?? 'deploy',
    payload: d.payload ?? {},
    description: d.description?.slice(0, 140),
    auto_merge: false,
    required_contexts: [],
    ...(d.productionEnvironment !== undefined ? { production_environment: d.productionEnvironment } : {}),
    ...(d.transientEnvironment !== undefined ? { transient_environment: d.transientEnvironment } : {}),
  });
  if (res.status !== 201) throw new Error(`GitHub did not create the deployment: ${JSON.stringify(res.data)}`);
  return toDeployment(res.data as RawDeployment);
}

/** Add a status to a deployment (a `success` makes earlier successful ones inactive, unless autoInactive is false). */
export async function setDeploymentStatus(
  gh: RepoClient,
  deploymentId: number,
  state: DeploymentState,
  options: { description?: string; environmentUrl?: string; logUrl?: string; autoInactive?: boolean } = {},
): Promise<DeploymentStatusInfo> {
  const res = await gh.octokit.rest.repos.createDeploymentStatus({
    owner: gh.owner,
    repo: gh.repo,
    deployment_id: deploymentId,
    state,
    ...(options.description !== undefined ? { description: options.description.slice(0, 140) } : {}),
    ...(options.environmentUrl ? { environment_url: options.environmentUrl } : {}),
    ...(options.logUrl ? { log_url: options.logUrl } : {}),
    ...(options.autoInactive !== undefined ? { auto_inactive: options.autoInactive } : {}),
  });
  return toStatus(res.data as RawStatus);
}

/** One deployment by id, or null when it does not exist. */
export async function getDeployment(gh: RepoClient, deploymentId: number): Promise<DeploymentInfo | null> {
  try {
    const res = await gh.octokit.rest.repos.getDeployment({
      owner: gh.owner,
      repo: gh.repo,
      deployment_id: deploymentId,
    });
    return toDeployment(res.data as RawDeployment);
  } catch (err) {
    if ((err as { status?: number }).status === 404) return null;
    throw err;
  }
}

/** Deployments of an environment, newest first, at most `limit` (default 100). */
export async function listDeployments(
  gh: RepoClient,
  filter: { environment: string; task?: string; sha?: string; ref?: string; limit?: number },
): Promise<DeploymentInfo[]> {
  const limit = filter.limit ?? 100;
  const out: DeploymentInfo[] = [];
  const iterator = gh.octokit.paginate.iterator(gh.octokit.rest.repos.listDeployments, {
    owner: gh.owner,
    repo: gh.repo,
    environment: filter.environment,
    ...(filter.task ? { task: filter.task } : {}),
    ...(filter.sha ? { sha: filter.sha } : {}),
    ...(filter.ref ? { ref: filter.ref } : {}),
    per_page: Math.min(100, limit),
  });
  for await (const page of iterator) {
    for (const d of page.data) {
      out.push(toDeployment(d as RawDeployment));
      if (out.length >= limit) return out;
    }
  }
  return out;
}

/** A deployment's statuses, newest first. */
export async function deploymentStatuses(gh: RepoClient, deploymentId: number): Promise<DeploymentStatusInfo[]> {
  const all = await gh.octokit.paginate(gh.octokit.rest.repos.listDeploymentStatuses, {
    owner: gh.owner,
    repo: gh.repo,
    deployment_id: deploymentId,
    per_page: 100,
  });
  return (all as RawStatus[]).map(toStatus);
}

/** A deployment's latest status, or null when it has none. */
export async function latestStatus(gh: RepoClient, deploymentId: number): Promise<DeploymentStatusInfo | null> {
  const res = await gh.octokit.rest.repos.listDeploymentStatuses({
    owner: gh.owner,
    repo: gh.repo,
    deployment_id: deploymentId,
    per_page: 1,
  });
  return res.data.length ? toStatus(res.data[0] as RawStatus) : null;
}

/**
 * What the environment runs now: the newest deployment whose latest status is `success`
 * (with its sha and payload), or null. `excludeIds` skips deployments (e.g. the one in flight).
 */
export async function latestSuccessfulDeployment(
  gh: RepoClient,
  environment: string,
  options: { task?: string; excludeIds?: number[]; scan?: number } = {},
): Promise<(DeploymentInfo & { status: DeploymentStatusInfo }) | null> {
  const list = await listDeployments(gh, { environment, task: options.task, limit: options.scan ?? 50 });
  for (const d of list) {
    if (options.excludeIds?.includes(d.id)) continue;
    const status = await latestStatus(gh, d.id);
    if (status?.state === 'success') return { ...d, status };
  }
  return null;
}

/**
 * Deployments of an environment that succeeded at some point (later made inactive by a
 * newer one, or not), newest first: the candidates to roll back to.
 */
export async function successfulDeployments(
  gh: RepoClient,
  environment: string,
  options: { task?: string; limit?: number; scan?: number } = {},
): Promise<DeploymentInfo[]> {
  const list = await listDeployments(gh, { environment, task: options.task, limit: options.scan ?? 50 });
  const out: DeploymentInfo[] = [];
  for (const d of list) {
    const statuses = await deploymentStatuses(gh, d.id);
    if (statuses.some((s) => s.state === 'success')) out.push(d);
    if (out.length >= (options.limit ?? 10)) break;
  }
  return out;
}
