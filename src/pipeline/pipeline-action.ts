/** The root action: the whole chain in one step, for a small repository. */
import { commonInputs, defineAction, input } from '../core/inputs.js';
import { runPipeline } from './pipeline.js';

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
    'to-version': input.string('rollback mode: the version to return to. Empty: the last good one before the current.'),
    build: input.boolean("Run the selected components' build commands.", 'true'),
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
    const result = await runPipeline(
      {
        mode: inputs.mode,
        config: inputs.config,
        environments: envs,
        toVersion: inputs.toVersion,
        build: inputs.build,
        token: inputs.token,
        dryRun: inputs.dryRun,
      },
      rt,
    );
    rt.setOutput('version', result.version);
    rt.setOutput('release', result.release);
    rt.setOutput('status', result.status);
    rt.setOutput('deployed', result.deployed);
    rt.setOutput('tag', result.tag);
    rt.setOutput('release-url', result.releaseUrl);
  },
});
