/** Opening the deployment record: the one rule deploy writes by and build-selective reads by. */
import type { Runtime } from '../../core/runtime.js';
import { createGitHubClient, repoClient } from '../../github/client.js';
import { FileLedger } from './file-ledger.js';
import { GitHubRecord } from './github.js';
import { githubDeploymentsApi } from './github-api.js';
import type { DeploymentRecord } from './record.js';

/** The record of a run: GitHub Deployments with a token, else the ledger in `.slipway/`. */
export function chooseRecord(inputs: { token: string }, rt: Runtime): DeploymentRecord {
  if (!inputs.token) {
    const where =
      'No token: deployments are recorded in .slipway/deployments.json of this workspace, not in GitHub Deployments';
    // On a runner the workspace is thrown away with the job: no later run sees this record or its lock.
    if (rt.env.GITHUB_ACTIONS === 'true')
      rt.log.warning(
        `${where}, and on a runner that file does not survive the job: later runs will not see what runs where, the lock, or the last good versions to roll back to. Set token (the default, \${{ github.token }}, needs permissions: deployments: write).`,
      );
    else rt.log.notice(`${where}.`);
    return new FileLedger(rt.cwd);
  }
  const octokit = createGitHubClient({ token: inputs.token, runtime: rt });
  return new GitHubRecord(githubDeploymentsApi(repoClient(octokit, rt.env)));
}
