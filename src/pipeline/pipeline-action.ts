/** The root action: the whole chain in one step, for a small repository. */
import { commonInputs, defineAction, input } from '../core/inputs.js';
import type { Runtime } from '../core/runtime.js';
import { PipelineError, runPipeline, type PipelineResult } from './pipeline.js';

/** The outputs of a run, also when it stopped early (a rollback, a failed step). */
function writeOutputs(rt: Runtime, result: PipelineResult): void {
  rt.setOutput('version', result.version);
  rt.setOutput('release', result.release);
  rt.setOutput('status', result.status);
  rt.setOutput('deployed', result.deployed);
  rt.setOutput('tag', result.tag);
  rt.setOutput('release-url', result.releaseUrl);
}

export const pipelineAction = defineAction({
  name: 'pipeline',
  description:
    'The whole chain in one step: version-bump, build-selective, deploy (migrations first), smoke-test, tag-release.',
  inputs: {
    ...commonInputs,
    mode: input.choice(
      'main, release, hotfix or rollback.',
      ['main', 'release', 'hotfix', 'rollback'] as const,
      'main',
    ),
    environments: input.string(
      "Environments to deploy to, in order, comma-separated. Empty: the policy file's, in `after` order (release mode: the first only).",
    ),
    'to-version': input.string(
      "rollback mode: the version to return to. Empty: undo each environment's latest deploy still in effect.",
    ),
    build: input.boolean("Run the selected components' build commands.", 'true'),
    'health-timeout': input.integer(
      "Seconds each component has to pass its health checks after it deploys, and the smoke tests' deadline. 0: deploy's and smoke-test's defaults.",
      '0',
    ),
    token: input.string('GitHub token for deployments and the release.', {
      default: '${{ github.token }}',
      secret: true,
    }),
  },
  outputs: {
    version: 'The version the run computed.',
    release: 'true when it was a new version.',
    status: 'success, rolled-back, failed or nothing-to-do.',
    deployed: 'JSON: environment → {component: version}.',
    tag: 'The tag created or found.',
    'release-url': 'The GitHub release.',
  },
  async run(inputs, rt) {
    const envs = inputs.environments
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    let result: PipelineResult;
    try {
      result = await runPipeline(
        {
          mode: inputs.mode,
          config: inputs.config,
          environments: envs,
          toVersion: inputs.toVersion,
          build: inputs.build,
          token: inputs.token,
          dryRun: inputs.dryRun,
          healthTimeout: inputs.healthTimeout,
        },
        rt,
      );
    } catch (err) {
      if (err instanceof PipelineError) writeOutputs(rt, err.result);
      else rt.setOutput('status', 'failed');
      throw err;
    }
    writeOutputs(rt, result);
  },
});
