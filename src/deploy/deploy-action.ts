/** The deploy action: inputs and outputs as declared for action.yml, over runDeploy. */
import { defineAction } from '../core/inputs.js';
import type { Runtime } from '../core/runtime.js';
import { runDeploy } from './deploy.js';
import { deployInputs, type DeployInputs } from './inputs.js';
import { createGitHubClient, repoClient } from '../github/client.js';
import { FileLedger } from './record/file-ledger.js';
import { GitHubRecord } from './record/github.js';
import { githubDeploymentsApi } from './record/github-api.js';
import type { DeploymentRecord } from './record/record.js';

/** The record of a run: GitHub Deployments with a token, else the ledger in `.slipway/`. */
export function chooseRecord(inputs: DeployInputs, rt: Runtime): DeploymentRecord {
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

export const deploy = defineAction({
  name: 'deploy',
  description:
    'Deploy components to an environment in dependency order, gate each on its health checks, record it, and roll back on failure.',
  inputs: deployInputs,
  outputs: {
    status: 'success, rolled-back or failed.',
    deployed: 'JSON: component → the version it runs after this run.',
    'previous-version': 'The version the environment ran before (the highest, when components differed).',
    'deployment-id': 'The id of the deployment record of this run.',
    'environment-url': "The environment's URL from the policy file.",
    plan: 'JSON: the waves, each component with its version now and next and its commands.',
  },
  async run(inputs, rt) {
    await runDeploy({ inputs, record: chooseRecord(inputs, rt), runtime: rt });
  },
});
