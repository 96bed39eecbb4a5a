/** The deploy action: inputs and outputs as declared for action.yml, over runDeploy. */
import { defineAction } from '../core/inputs.js';
import { runDeploy } from './deploy.js';
import { deployInputs } from './inputs.js';
import { chooseRecord } from './record/open.js';

export const deploy = defineAction({
  name: 'deploy',
  description:
    'Deploy components to an environment in dependency order, gate each on its health checks, record it, and roll back on failure.',
  inputs: deployInputs,
  outputs: {
    status:
      'success, rolled-back, failed, or cancelled (the job was cancelled: a component in progress is not rolled back; it is left as it is, except a compose service being recreated, which is started at the new version).',
    deployed:
      'JSON: component → the version it runs after this run (after a cancel, one stopped in the middle maps to the version it was moving to).',
    'previous-version': 'The version the environment ran before (the highest, when components differed).',
    'deployment-id': 'The id of the deployment record of this run.',
    'environment-url': "The environment's URL from the policy file.",
    plan: 'JSON: the waves, each component with its version now and next and its commands; refusal: why the run was refused before anything ran (in a dry run, which still succeeds: why a real run would be), or null.',
  },
  async run(inputs, rt) {
    await runDeploy({ inputs, record: chooseRecord(inputs, rt), runtime: rt });
  },
});
