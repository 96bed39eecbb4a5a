/** `slipway plan`: what the pipeline would do for this repository, with nothing run and nothing written. */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../core/config.js';
import type { SlipwayConfig } from '../core/config.js';
import { UserError } from '../core/errors.js';
import type { Runtime } from '../core/runtime.js';
import type { Database } from '../migrations/database.js';
import { emptyDatabase } from '../migrations/empty-database.js';
import { EMBEDDED_FOLDER, openEmbeddedDatabase } from '../migrations/local.js';
import { runMigrateAction, type MigrateInputs } from '../migrations/migrate.js';
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
    'repository. The migration history is read where a run would read it: the database in the',
    "component's URL variable (DATABASE_URL unless migrate.database names another) when it is set,",
    'else a copy of the embedded database (.slipway/db) when there is one; with neither, nothing is',
    "applied yet and no database is opened. --event rollback previews deploy's manual rollback",
    '(to --to-version, or undoing the latest deploy still in effect). The policy file must name at least one environment;',
    '--environment picks one of them (default: each, in `after` order). Exits 1 when a step failed.',
  ].join('\n'),
  flags: ['event', 'branch', 'environment', 'to-version', 'config'],
  async run({ flags, cwd, term }) {
    const event = flags.event ?? 'push';
    const mode = EVENTS[event];
    if (!mode) throw new UserError(`--event: expected one of ${Object.keys(EVENTS).join(', ')}, got "${event}"`);
    const scratch = mkdtempSync(path.join(tmpdir(), 'slipway-plan-'));
    try {
      const config = await loadConfig(cwd, flags.config ?? '');
      checkEnvironments(config, flags.environment);
      const embedded = embeddedHistory(cwd, scratch);
      reportHistories(config, embedded, term);
      const env = { ...process.env, SLIPWAY_EMBEDDED_DB: embedded.copy };
      const rt = createCliRuntime(term, { cwd, env, verbose: flags.verbose === 'true' });
      const overrides = {
        ...localOverrides(),
        migrate: async (inputs: Record<string, unknown>, runtime: Runtime) => {
          await runMigrateAction(inputs as MigrateInputs, runtime, embedded.open);
        },
      };
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
          overrides,
        );
      } catch (err) {
        if (!(err instanceof PipelineError)) throw err;
        failure = err;
        result = err.result;
      }
      if (flags.json === 'true') process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else for (const s of result.steps) process.stdout.write(`${s.step}: ${s.detail}\n`);
      if (failure) throw failure;
      // A dry run carries on past a failed step to show the rest; the plan still failed.
      const failed = result.steps.filter((s) => s.result === 'failed');
      if (failed.length)
        throw new UserError(
          `plan: ${failed.map((s) => s.step).join(', ')} failed: ${failed[0].detail}${failed.length > 1 ? ` (and ${failed.length - 1} more)` : ''}`,
        );
      return 0;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};

/**
 * Before anything runs: the environments the plan shows must be in the policy file. The
 * pipeline's own message names its `environments` input, which this command does not have.
 */
function checkEnvironments(config: SlipwayConfig, wanted: string | undefined): void {
  const file = config.file ?? `${DEFAULT_CONFIG_PATH} (not found)`;
  const known = Object.keys(config.environments);
  if (!known.length)
    throw new UserError(
      `${file}: environments: none defined (expected at least one, e.g. "environments: { production: {} }"; plan shows each one's deploy and smoke tests)`,
    );
  if (wanted && !known.includes(wanted))
    throw new UserError(
      `--environment: unknown environment "${wanted}" in ${file} (expected one of: ${known.join(', ')})`,
    );
}

/** The embedded database a dry run may use, and how to open it. */
interface EmbeddedHistory {
  /** The configured folder, as the user wrote it. */
  configured: string;
  /** Where the copy lives (what SLIPWAY_EMBEDDED_DB points deploy's dry run at). */
  copy: string;
  exists: boolean;
  open: () => Promise<Database>;
}

/**
 * The embedded database a dry run may read, outside the repository: PGlite writes to a folder
 * it opens (and creates a missing one), and a plan writes nothing. A copy of the repository's
 * database when there is one. With none, the history is empty, and opening PGlite (seconds)
 * to find that out is waste: an empty stand-in answers instead.
 */
function embeddedHistory(cwd: string, scratch: string): EmbeddedHistory {
  const configured = process.env.SLIPWAY_EMBEDDED_DB || EMBEDDED_FOLDER;
  const source = path.resolve(cwd, configured);
  const copy = path.join(scratch, 'db');
  const exists = existsSync(source);
  if (exists) cpSync(source, copy, { recursive: true });
  return {
    configured,
    copy,
    exists,
    open: async () =>
      exists ? openEmbeddedDatabase(copy) : emptyDatabase(`${configured} (none yet: nothing applied, not opened)`),
  };
}

/** One line per migrations component: the history a run would read, and so the plan reads. */
function reportHistories(config: SlipwayConfig, embedded: EmbeddedHistory, term: Terminal): void {
  const components = Object.values(config.components).filter((c) => c.migrate);
  for (const c of components) {
    const m = c.migrate!;
    const label = components.length > 1 ? `Migration history of ${c.name}` : 'Migration history';
    const variable = m.database?.env ?? 'DATABASE_URL';
    const url = process.env[variable]?.trim();
    if (m.tool === 'command')
      term.line(`${label}: kept by the project's own tool (tool: command); Slipway reads none.`);
    else if (url && !describe(url))
      term.line(`${label}: ${variable} is set but is not a postgres:// URL; the migrations step below says why.`);
    else if (url) term.line(`${label}: read from the database in ${variable} (${describe(url)}).`);
    else if (embedded.exists)
      term.line(`${label}: read from a copy of the embedded database in ${embedded.configured}.`);
    else
      term.line(
        `${label}: ${variable} is not set and there is no embedded database in ${embedded.configured}: nothing applied yet (no database opened).`,
      );
  }
}

/** host:port/name of a postgres:// URL, without credentials; empty for anything else. */
function describe(url: string): string {
  try {
    const u = new URL(url);
    // Anything else may hold its credentials outside the userinfo ("user:pw@host" parses
    // as scheme "user" with the password in its path): never printed.
    if (!['postgres:', 'postgresql:'].includes(u.protocol)) return '';
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return '';
  }
}
