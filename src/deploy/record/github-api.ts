/** The DeploymentsApi of the GitHub record over src/github (Octokit with retry and throttling). */
import type { RepoClient } from '../../github/client.js';
import {
  createDeployment,
  latestStatus,
  listDeployments,
  setDeploymentStatus,
  type DeploymentInfo,
  type DeploymentStatusInfo,
} from '../../github/deployments.js';
import type { ApiDeployment, DeploymentsApi } from './github.js';

function toApi(d: DeploymentInfo, s: DeploymentStatusInfo | null): ApiDeployment {
  const creator = typeof d.payload.creator === 'string' ? d.payload.creator : '';
  return {
    id: d.id,
    environment: d.environment,
    task: d.task,
    ref: typeof d.payload.ref === 'string' ? d.payload.ref : d.ref,
    sha: d.sha,
    payload: d.payload,
    creator,
    createdAt: d.createdAt,
    description: d.description,
    status: s
      ? {
          state: s.state,
          updatedAt: s.createdAt,
          description: s.description,
          environmentUrl: s.environmentUrl,
          logUrl: s.logUrl,
        }
      : null,
  };
}

/** Bind the record's API calls to a repository client. */
export function githubDeploymentsApi(gh: RepoClient): DeploymentsApi {
  return {
    async create(input) {
      const d = await createDeployment(gh, {
        ref: input.ref,
        environment: input.environment,
        task: input.task,
        payload: input.payload,
        description: input.description,
      });
      return toApi(d, null);
    },
    async setStatus(id, input) {
      const status = await setDeploymentStatus(gh, id, input.state, {
        description: input.description,
        environmentUrl: input.environmentUrl,
        logUrl: input.logUrl,
      });
      return status.createdAt;
    },
    async latestState(id) {
      return (await latestStatus(gh, id))?.state ?? null;
    },
    async list(environment, limit, keep) {
      const list = (await listDeployments(gh, { environment, limit })).filter((d) => !keep || keep(d));
      return Promise.all(list.map(async (d) => toApi(d, await latestStatus(gh, d.id))));
    },
  };
}
