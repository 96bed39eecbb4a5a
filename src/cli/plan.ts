/** `slipway plan`: what the pipeline would do for this repository, with nothing run. */
import { UserError } from '../core/errors.js';
import { runPipeline, type PipelineMode } from '../pipeline/pipeline.js';
import { createCliRuntime } from './cli-runtime.js';
import { localOverrides } from './local-actions.js';
import type { Command } from './main.js';

const EVENTS: Record<string, PipelineMode> = {
  push: 'main',
  release: 'release',
  hotfix: 'hotfix',
  rollback: 'rollback',
};

export const command: Command = {
  name: 'plan',
  summary: 'Print what the pipeline would do (version, selection, migrations, waves, checks); nothing runs.',
  usage: [
    'Usage: slipway plan [--event push|release|hotfix|rollback] [--branch B] [--environment E] [--config FILE]',
    '',
    'Runs every step of the pipeline as a dry run: the next version and the commits that decide it,',
    'the components selected and why, the pending migrations and their lint, the deploy waves and',
    'the checks. Nothing is built, migrated, deployed or tagged.',
  ].join('\n'),
  async run({ flags, cwd, term }) {
    const event = flags.event ?? 'push';
    const mode = EVENTS[event];
    if (!mode) throw new UserError(`--event: expected one of ${Object.keys(EVENTS).join(', ')}, got "${event}"`);
    const rt = createCliRuntime(term, { cwd, verbose: flags.verbose === 'true' });
    const result = await runPipeline(
      {
        mode,
        config: flags.config ?? '',
        environments: flags.environment ? [flags.environment] : [],
        toVersion: '',
        build: true,
        token: '',
        dryRun: true,
        branch: flags.branch,
      },
      rt,
      localOverrides(),
    );
    if (flags.json === 'true') process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else for (const s of result.steps) process.stdout.write(`${s.step}: ${s.detail}\n`);
    return 0;
  },
};
