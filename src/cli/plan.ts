/** `slipway plan`: what the pipeline would do for this repository, with nothing run and nothing written. */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UserError } from '../core/errors.js';
import { EMBEDDED_FOLDER } from '../migrations/local.js';
import { PipelineError, runPipeline, type PipelineMode, type PipelineResult } from '../pipeline/pipeline.js';
import type { Terminal } from './terminal.js';
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
    'Usage: slipway plan [--event push|release|hotfix|rollback] [--branch B] [--environment E] [--to-version V] [--config FILE]',
    '',
    'Runs every step of the pipeline as a dry run: the next version and the commits that decide it,',
    'the components selected and why, the pending migrations and their lint, the deploy waves and',
    'the checks. Nothing is built, migrated, deployed or tagged, and nothing is written to the',
    'repository: the migration history is read from a copy of the embedded database (.slipway/db)',
    "when there is one, else taken as empty. --event rollback previews deploy's manual rollback",
    '(to --to-version, or the last good version).',
  ].join('\n'),
  async run({ flags, cwd, term }) {
    const event = flags.event ?? 'push';
    const mode = EVENTS[event];
    if (!mode) throw new UserError(`--event: expected one of ${Object.keys(EVENTS).join(', ')}, got "${event}"`);
    const scratch = mkdtempSync(path.join(tmpdir(), 'slipway-plan-'));
    try {
      const env = { ...process.env, SLIPWAY_EMBEDDED_DB: embeddedHistory(cwd, scratch, term) };
      const rt = createCliRuntime(term, { cwd, env, verbose: flags.verbose === 'true' });
      let result: PipelineResult;
      let failure: PipelineError | null = null;
      try {
        result = await runPipeline(
          {
            mode,
            config: flags.config ?? '',
            environments: flags.environment ? [flags.environment] : [],
            toVersion: flags['to-version'] ?? '',
            build: true,
            token: '',
            dryRun: true,
            branch: flags.branch,
          },
          rt,
          localOverrides(),
        );
      } catch (err) {
        if (!(err instanceof PipelineError)) throw err;
        failure = err;
        result = err.result;
      }
      if (flags.json === 'true') process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else for (const s of result.steps) process.stdout.write(`${s.step}: ${s.detail}\n`);
      if (failure) throw failure;
      return 0;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};

/**
 * The embedded database a dry run may open, outside the repository: PGlite writes to a folder
 * it opens (and creates a missing one), and a plan writes nothing. A copy of the repository's
 * database when there is one, else an empty one: the history is then empty, and the plan says so.
 */
function embeddedHistory(cwd: string, scratch: string, term: Terminal): string {
  const configured = process.env.SLIPWAY_EMBEDDED_DB || EMBEDDED_FOLDER;
  const source = path.resolve(cwd, configured);
  const copy = path.join(scratch, 'db');
  if (existsSync(source)) {
    cpSync(source, copy, { recursive: true });
    term.line(`Migration history: read from a copy of the embedded database in ${configured}.`);
  } else {
    term.line(`Migration history: no embedded database in ${configured}; treating it as empty (nothing applied yet).`);
  }
  return copy;
}
