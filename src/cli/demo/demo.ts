/**
 * `npm run demo`: the main pipeline on embedded defaults, on a fresh machine, with no
 * server and no network. A sample product is created in a temporary folder and released
 * twice: once cleanly, once with a change that breaks the bot's health, which deploy rolls
 * back by itself. Every process started is stopped and the folder is removed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { installCancelHandlers, onCancel } from '../../core/cancel.js';
import { errorMessage } from '../../core/errors.js';
import { PipelineError, runPipeline, type PipelineResult } from '../../pipeline/pipeline.js';
import { createCliRuntime } from '../cli-runtime.js';
import { localOverrides } from '../local-actions.js';
import type { Command } from '../main.js';
import type { Terminal } from '../terminal.js';
import { botSource, sampleFiles, type DemoPorts } from './sample-product.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Demo',
      GIT_AUTHOR_EMAIL: 'demo@example.com',
      GIT_COMMITTER_NAME: 'Demo',
      GIT_COMMITTER_EMAIL: 'demo@example.com',
    },
  });
}

function write(dir: string, files: Record<string, string>): void {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
}

/** Stop every service the demo's deploy commands started (their pids are in run/). */
function stopServices(home: string): number {
  const runDir = path.join(home, 'run');
  if (!existsSync(runDir)) return 0;
  let stopped = 0;
  for (const f of readdirSync(runDir).filter((x) => x.endsWith('.pid'))) {
    const pid = Number(readFileSync(path.join(runDir, f), 'utf8'));
    try {
      process.kill(pid, 'SIGTERM');
      stopped++;
    } catch {
      /* already gone */
    }
  }
  return stopped;
}

async function health(port: number): Promise<string> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { status?: string; version?: string };
    return `HTTP ${res.status}, status ${body.status}, version ${body.version}`;
  } catch (err) {
    return `unreachable (${errorMessage(err)})`;
  }
}

/** Run the demo; returns the exit code. */
async function runDemo(term: Terminal): Promise<number> {
  const home = mkdtempSync(path.join(tmpdir(), 'slipway-demo-'));
  const repo = path.join(home, 'shop');
  const saved = { DEMO_HOME: process.env.DEMO_HOME, RUNNER_TEMP: process.env.RUNNER_TEMP };
  // The deploy commands find their builds through DEMO_HOME; backups go to RUNNER_TEMP: both inside the folder removed at the end.
  process.env.DEMO_HOME = home;
  process.env.RUNNER_TEMP = home;
  const say = (text: string) => term.line(`\n${term.color('bold', text)}`);
  const cleanUp = () => {
    const stopped = stopServices(home);
    rmSync(home, { recursive: true, force: true });
    term.line(term.color('dim', `Stopped ${stopped} service(s) and removed ${home}.`));
  };
  // Ctrl-C: the finally below never runs on a signal's exit, so the same clean-up is registered
  // to run once the pipeline's commands are stopped.
  const unregister = onCancel(cleanUp, 'release');
  const removeHandlers = installCancelHandlers({
    info: (m) => term.line(m),
    warning: (m) => term.line(`${term.color('yellow', 'warning:')} ${m}`),
  });
  try {
    const ports: DemoPorts = { backend: await freePort(), bot: await freePort(), frontend: await freePort() };
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    write(repo, sampleFiles(ports));
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'feat: the Acme shop: an API, a bot and a storefront');
    say(
      `① A sample product in ${repo}: backend (port ${ports.backend}), bot (${ports.bot}), frontend (${ports.frontend}), a shared library and two migrations.`,
    );

    // The sample migrates the embedded database: a DATABASE_URL in the user's shell (their real
    // database, maybe production) must never be what the demo migrates.
    const rt = createCliRuntime(term, { cwd: repo, env: { ...process.env, DATABASE_URL: '' } });
    const options = {
      mode: 'main' as const,
      config: '',
      environments: ['local'],
      toVersion: '',
      build: true,
      token: '',
      dryRun: false,
      healthTimeout: 8,
    };
    say('② The main pipeline: version → build → migrate (embedded PostgreSQL) → deploy → smoke test → release.');
    const first = await runPipeline(options, rt, localOverrides());
    term.line(story(first));
    term.line(`   bot /health: ${await health(ports.bot)}`);
    if (!smokePassed(first)) {
      term.line(term.color('red', 'The smoke test did not pass on the first release.'));
      return 1;
    }

    say('③ A change that breaks the bot: it now needs a BOT_TOKEN the deploy does not set.');
    write(repo, { 'services/bot/server.js': botSource(true) });
    git(repo, 'commit', '-q', '-am', 'fix(bot): read the chat token from the environment');
    let second: PipelineResult;
    let failure = '';
    try {
      second = await runPipeline(options, rt, localOverrides());
    } catch (err) {
      if (!(err instanceof PipelineError)) throw err;
      second = err.result;
      failure = errorMessage(err);
    }
    if (second.status !== 'rolled-back') {
      term.line(
        term.color('red', `The broken bot was not rolled back (${second.status}): ${failure || story(second)}`),
      );
      return 1;
    }
    term.line(`   ${term.color('yellow', 'deploy rolled back:')} ${failure}`);
    term.line(`   bot /health after the rollback: ${await health(ports.bot)}`);
    // The verdict is the smoke test's, run by the pipeline after the rollback, and deploy's record of what runs.
    const botVersion = second.deployed.local?.bot;
    if (!smokePassed(second) || botVersion !== first.version) {
      term.line(
        term.color(
          'red',
          `expected the smoke test to pass with the bot back on ${first.version}; it runs ${botVersion ?? 'nothing'}`,
        ),
      );
      return 1;
    }
    const checks = second.smoke.local.results;
    term.line(
      `   smoke test after the rollback: ${checks.filter((c) => c.passed).length}/${checks.length} check(s) passed, the bot runs ${botVersion} again`,
    );
    const tags = git(repo, 'tag', '--list').trim().split('\n').filter(Boolean);
    say(
      `④ Done: ${first.version} runs everywhere, the broken ${'change'} never stayed deployed, tags: ${tags.join(', ') || 'none'}.`,
    );
    return 0;
  } finally {
    removeHandlers();
    unregister();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    cleanUp();
  }
}

const MARKS = { ok: '✔', skipped: '–', failed: '✘', 'rolled-back': '↩' } as const;

/** The smoke test's verdict on the demo's environment, from its outputs. */
function smokePassed(r: PipelineResult): boolean {
  const outcome = r.smoke.local;
  return Boolean(outcome?.passed && outcome.results.length && outcome.results.every((c) => c.passed));
}

function story(r: PipelineResult): string {
  return r.steps.map((s) => `   ${MARKS[s.result]} ${s.step}: ${s.detail}`).join('\n');
}

export const command: Command = {
  name: 'demo',
  summary: 'Run the whole pipeline on a sample product in a temporary folder (no server, no network).',
  usage:
    'Usage: slipway demo\n\nCreates a sample product in a temporary folder, releases it, then releases a broken change\nthat deploy rolls back by itself. Stops everything it started and removes the folder.',
  run: async ({ term }) => runDemo(term),
};
