/**
 * The rollback button (`rollback: true` without to-version, `slipway deploy --rollback`,
 * `slipway plan --event rollback`) against a real ledger and command targets that write the
 * version they run to run/<environment>/<component>: a press undoes the environment's latest
 * deploy still in effect, puts back what an interrupted run (cancelled, or killed and then
 * unlocked) left to its last good version, and leaves every other component alone.
 */
import { jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { deploymentLookup } from '../../src/changes/deployed.js';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { runDeploy } from '../../src/deploy/deploy.js';
import { FileLedger } from '../../src/deploy/record/file-ledger.js';
import { ROOT } from '../helpers/run-action.js';
import { createProduct, type Product } from './fixture.js';

jest.setTimeout(120_000);

let p: Product;
const pids: number[] = [];
beforeEach(async () => {
  p = await createProduct();
});
afterEach(async () => {
  // The command a kill -9 orphaned, by its process group (it started it in one of its own).
  for (const pid of pids.splice(0))
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  await p.close();
});

/** Write the version a command put there: run/<environment>/<component>, and state/<component>, which the health server reads. */
const write =
  'mkdir -p "run/$SLIPWAY_ENVIRONMENT" state; echo "$SLIPWAY_VERSION" > "run/$SLIPWAY_ENVIRONMENT/$SLIPWAY_COMPONENT"; ' +
  'echo "$SLIPWAY_VERSION" > "state/$SLIPWAY_COMPONENT"';

/**
 * A command target that logs `deploy|rollback <env> <component> <version> <previous>` and
 * writes the version it put there; a deploy of a version the test holds writes it, then
 * waits (its version may already serve when the run is stopped there).
 */
const target = {
  run:
    'echo "deploy $SLIPWAY_ENVIRONMENT $SLIPWAY_COMPONENT $SLIPWAY_VERSION $SLIPWAY_PREVIOUS_VERSION" >> "$DEPLOY_LOG"; ' +
    `${write}; ` +
    'if [ -e "hold-$SLIPWAY_COMPONENT-$SLIPWAY_VERSION" ]; then echo $$ > "held.pid"; sleep 30 & wait; fi',
  rollback:
    'echo "rollback $SLIPWAY_ENVIRONMENT $SLIPWAY_COMPONENT $SLIPWAY_VERSION $SLIPWAY_PREVIOUS_VERSION" >> "$DEPLOY_LOG"; ' +
    'echo "rolling back $SLIPWAY_COMPONENT to $SLIPWAY_VERSION (from $SLIPWAY_PREVIOUS_VERSION)"; ' +
    write,
};

/**
 * api and worker versioned on their own (0.2.x, 0.3.x), web on the product's series (1.2.x);
 * `before` runs first in each deploy; with `health`, api is gated on the test's health server.
 */
function configure(before = '', health = false) {
  const deploy = { ...target, run: `${before}${target.run}` };
  const url = health ? { url: p.url } : {};
  p.writeConfig(
    stringify({
      components: {
        api: { deploy, ...(health ? { health: [{ http: '/health/api' }] } : {}) },
        worker: { dependsOn: ['api'], deploy },
        web: { dependsOn: ['api'], deploy },
      },
      environments: { staging: url, production: url },
    }),
  );
}

/** Record in the ledger a run of `task` to `versions` that ended as `description` says, as deploy would have. */
async function recordInterrupted(
  task: 'deploy' | 'deploy:rollback',
  versions: Record<string, string>,
  description: string,
) {
  const ledger = new FileLedger(p.dir);
  const entry = await ledger.begin(
    { environment: 'staging', task, ref: 'main', sha: p.repo.head(), versions, creator: 'ops', description: task },
    { timeoutMs: 0, ttlMs: 3_600_000, log: createMemoryRuntime().log },
  );
  await ledger.finish(entry.id, { state: 'error', description });
}

const logFile = () => path.join(p.dir, 'deploy.log');
/** The commands run since the last clearLog, one `event env component version previous` per line. */
const commands = () =>
  existsSync(logFile()) ? readFileSync(logFile(), 'utf8').trim().split('\n').filter(Boolean) : [];
/** What each component runs on `environment`, as the commands left it. */
function running(environment: string, ...names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const f = path.join(p.dir, 'run', environment, n);
    out[n] = existsSync(f) ? readFileSync(f, 'utf8').trim() : '';
  }
  return out;
}

/** deploy in this process, on the ledger in the product's folder. */
async function deploy(environment: string, values: Record<string, string>) {
  const rt = p.runtime();
  let error: Error | undefined;
  try {
    await runDeploy({ inputs: p.inputs({ environment, ...values }), record: new FileLedger(p.dir), runtime: rt });
  } catch (err) {
    error = err as Error;
  }
  return { rt, error, outputs: rt.outputs, text: rt.text() };
}

const release = (environment: string, versions: Record<string, string>) =>
  deploy(environment, { version: JSON.stringify(versions) }).then((r) => {
    expect(r.error).toBeUndefined();
    return r;
  });

/** `slipway …` from source, as its own process in the product's folder. */
function slipway(args: string[], onStart?: (c: ChildProcess) => void) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', GITHUB_TOKEN: '', DEPLOY_LOG: logFile() };
    delete env.NODE_OPTIONS;
    const child = spawn(
      process.execPath,
      ['--import', path.join(ROOT, 'node_modules/tsx/dist/loader.mjs'), path.join(ROOT, 'src/cli/main.ts'), ...args],
      { cwd: p.dir, env },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    onStart?.(child);
  });
}

/** Start a deploy of `versions` that holds in `component`'s command, and stop it there with `signal`. */
async function interrupted(
  environment: string,
  versions: Record<string, string>,
  component: string,
  signal: NodeJS.Signals,
) {
  const hold = path.join(p.dir, `hold-${component}-${versions[component]}`);
  const pidFile = path.join(p.dir, 'held.pid');
  writeFileSync(hold, '');
  let child: ChildProcess | undefined;
  const run = slipway(
    ['deploy', '--environment', environment, '--version', JSON.stringify(versions)],
    (c) => (child = c),
  );
  while (!existsSync(pidFile) || !readFileSync(pidFile, 'utf8').trim()) await new Promise((r) => setTimeout(r, 20));
  const held = Number(readFileSync(pidFile, 'utf8').trim());
  child!.kill(signal);
  const done = await run;
  if (signal === 'SIGKILL') pids.push(held);
  writeFileSync(pidFile, '');
  return done;
}

describe('after an interrupted deploy, the button puts back the last good version (not the one before it)', () => {
  test('a deploy cancelled in the middle of api 0.2.2: api goes back to 0.2.1, from 0.2.2; nothing else moves', async () => {
    configure();
    await release('staging', { api: '0.2.0', worker: '0.3.0', web: '1.2.3' });
    await release('staging', { api: '0.2.1', web: '1.2.4' });
    const cancelled = await interrupted('staging', { api: '0.2.2' }, 'api', 'SIGINT');
    expect(cancelled.code).toBe(130);
    expect(cancelled.stderr).toMatch(/api stopped in the middle, left as it is/);
    // The cancelled command had already switched: 0.2.2 may serve.
    expect(running('staging', 'api')).toEqual({ api: '0.2.2' });
    p.clearLog();

    const back = await slipway(['deploy', '--environment', 'staging', '--rollback', '--json']);
    expect(back.stderr).not.toMatch(/^error/m);
    expect(back.code).toBe(0);
    expect(back.stderr).toMatch(/api unknown \(0\.2\.2\?\) → 0\.2\.1/);
    expect(back.stderr).toMatch(
      /api runs an unknown version: cancelled \(SIGINT\) while deploying 0\.2\.2 \(deployment #3\)/,
    );
    expect(back.stderr).toMatch(/\[api\] rolling back api to 0\.2\.1 \(from 0\.2\.2\)/);
    expect(commands()).toEqual(['rollback staging api 0.2.1 0.2.2']);
    const outputs = JSON.parse(back.stdout);
    expect(outputs).toMatchObject({ status: 'success', deployed: { api: '0.2.1' }, 'previous-version': '0.2.2' });
    expect(running('staging', 'api', 'worker', 'web')).toEqual({ api: '0.2.1', worker: '0.3.0', web: '1.2.4' });

    // The next press undoes the deploy before the cancelled one: api and web, not worker.
    p.clearLog();
    const again = await deploy('staging', { rollback: 'true' });
    expect(again.error).toBeUndefined();
    expect(commands().sort()).toEqual(['rollback staging api 0.2.0 0.2.1', 'rollback staging web 1.2.3 1.2.4']);
    expect(again.text).toMatch(/Skipped worker: not changed by deployment #2, the deploy this rollback undoes/);
    expect(running('staging', 'api', 'worker', 'web')).toEqual({ api: '0.2.0', worker: '0.3.0', web: '1.2.3' });
  });

  test('a deploy of web 1.2.5 killed (kill -9) and then unlocked: web goes back to 1.2.4, from 1.2.5', async () => {
    configure();
    await release('staging', { api: '0.2.0', worker: '0.3.0', web: '1.2.3' });
    await release('staging', { web: '1.2.4' });
    const killed = await interrupted('staging', { web: '1.2.5' }, 'web', 'SIGKILL');
    expect(killed.code).toBe(null);
    const unlock = await slipway(['unlock', '--environment', 'staging']);
    expect(unlock.code).toBe(0);
    expect(unlock.stderr).toMatch(/Released the lock of staging: #3 /);
    p.clearLog();

    const plan = await deploy('staging', { rollback: 'true', 'dry-run': 'true' });
    expect(plan.text).toMatch(/web unknown \(1\.2\.5\?\) → 1\.2\.4/);
    expect(plan.text).toMatch(/web runs an unknown version: deployment #3 of 1\.2\.5 stopped without finishing/);
    const back = await deploy('staging', { rollback: 'true' });
    expect(back.error).toBeUndefined();
    expect(commands()).toEqual(['rollback staging web 1.2.4 1.2.5']);
    expect(back.text).toMatch(/rolling back web to 1\.2\.4 \(from 1\.2\.5\)/);
    expect(JSON.parse(back.outputs.deployed)).toEqual({ web: '1.2.4' });
    expect(running('staging', 'api', 'web')).toEqual({ api: '0.2.0', web: '1.2.4' });
  });

  test('a rollback cancelled half-way: the next press finishes it, it does not go a second version back', async () => {
    configure();
    await release('staging', { api: '0.2.0' });
    await release('staging', { api: '0.2.1' });
    // A rollback to 0.2.0 that a cancel stopped in the middle of api.
    await recordInterrupted('deploy:rollback', { api: '0.2.0' }, 'cancelled (SIGINT) while rolling back api@0.2.0');
    p.clearLog();
    const back = await deploy('staging', { rollback: 'true' });
    expect(back.error).toBeUndefined();
    expect(commands()).toEqual(['rollback staging api 0.2.0 0.2.0']);
    expect(back.text).toMatch(/api unknown \(0\.2\.0\?\) → 0\.2\.0/);
  });
});

test('an interrupted component whose rollback fails its health is left as it is, not put back to a version that never ended good', async () => {
  configure('', true);
  await release('staging', { api: '0.2.0' });
  await release('staging', { api: '0.2.1' });
  await recordInterrupted('deploy', { api: '0.2.2' }, 'cancelled (SIGTERM) while deploying api@0.2.2');
  p.bad.set('api', new Set(['0.2.1']));
  p.clearLog();
  const back = await deploy('staging', { rollback: 'true', timeout: '2' });
  expect(back.outputs.status).toBe('failed');
  expect(commands()).toEqual(['rollback staging api 0.2.1 0.2.2']);
  expect(back.error?.message).toMatch(
    /^rollback to staging failed at api 0\.2\.1: health checks failed: .*; api: left as it is, what ran before is unknown$/,
  );
  expect(back.rt.summaries.join('\n')).toMatch(
    /left: what it ran before is unknown \(cancelled \(SIGTERM\) while deploying 0\.2\.2/,
  );
});

describe('after an interrupted deploy, the next deploy starts from what that run finished', () => {
  test('api finished at 0.2.1, web stopped in the middle: a failing deploy puts api back on 0.2.1 and web on its last good 1.2.3', async () => {
    // web's 1.2.5 fails its command: the run rolls back what it changed.
    configure('if [ "$SLIPWAY_COMPONENT $SLIPWAY_VERSION" = "web 1.2.5" ]; then exit 1; fi; ');
    await release('staging', { api: '0.2.0', worker: '0.3.0', web: '1.2.3' });
    const cancelled = await interrupted('staging', { api: '0.2.1', web: '1.2.4' }, 'web', 'SIGINT');
    expect(cancelled.code).toBe(130);
    expect(running('staging', 'api', 'web')).toEqual({ api: '0.2.1', web: '1.2.4' });
    p.clearLog();

    const next = await deploy('staging', { version: JSON.stringify({ api: '0.2.2', web: '1.2.5' }) });
    expect(next.outputs.status).toBe('rolled-back');
    expect(next.text).toMatch(/api 0\.2\.1 → 0\.2\.2/);
    expect(next.text).toContain(
      'web runs an unknown version: cancelled (SIGINT) while deploying 1.2.4 (deployment #2); this deploy starts from its last good version 1.2.3, which a failure puts back.',
    );
    // api ran 0.2.1, finished and healthy: that is what it goes back to, not 0.2.0 before it.
    expect(commands()).toEqual([
      'deploy staging api 0.2.2 0.2.1',
      'rollback staging web 1.2.3 1.2.5',
      'rollback staging api 0.2.1 0.2.2',
    ]);
    expect(running('staging', 'api', 'worker', 'web')).toEqual({ api: '0.2.1', worker: '0.3.0', web: '1.2.3' });
  });
});

describe('without to-version, a press undoes the latest deploy still in effect', () => {
  /** Production ran 0.1.0 everywhere, then release 1.2.0, then hotfix 1.2.1 (api and worker only). */
  async function history() {
    configure();
    await release('production', { web: '0.1.0', api: '0.1.0', worker: '0.1.0' });
    await release('production', { web: '1.2.0', api: '0.2.0', worker: '0.3.0' });
    await release('production', { api: '0.2.1', worker: '0.3.1' });
  }

  test('after a hotfix of api and worker: api and worker go back, web stays on 1.2.0; the next press undoes the release', async () => {
    await history();
    // A deploy that failed and rolled itself back is not the one to undo.
    configure('[ "$SLIPWAY_VERSION" = 0.2.2 ] && exit 3; ');
    const failed = await deploy('production', { version: JSON.stringify({ api: '0.2.2' }) });
    expect(failed.outputs.status).toBe('rolled-back');
    configure();
    p.clearLog();

    const first = await deploy('production', { rollback: 'true' });
    expect(first.error).toBeUndefined();
    expect(commands().sort()).toEqual([
      'rollback production api 0.2.0 0.2.1',
      'rollback production worker 0.3.0 0.3.1',
    ]);
    expect(first.text).toMatch(/The rollback undoes deployment #3 \(api@0\.2\.1, worker@0\.3\.1, by [^)]+\)/);
    expect(first.text).toMatch(/Skipped web: not changed by deployment #3, the deploy this rollback undoes/);
    expect(JSON.parse(first.outputs.deployed)).toEqual({ api: '0.2.0', worker: '0.3.0' });
    expect(running('production', 'web', 'api', 'worker')).toEqual({ web: '1.2.0', api: '0.2.0', worker: '0.3.0' });
    const [rollback] = await new FileLedger(p.dir).history('production');
    expect(rollback).toMatchObject({
      task: 'deploy:rollback',
      state: 'success',
      versions: { api: '0.2.0', worker: '0.3.0' },
    });

    // Rollbacks are not deploys to undo: the next press undoes the release before the hotfix.
    p.clearLog();
    const second = await deploy('production', { rollback: 'true' });
    expect(second.error).toBeUndefined();
    expect(commands().sort()).toEqual([
      'rollback production api 0.1.0 0.2.0',
      'rollback production web 0.1.0 1.2.0',
      'rollback production worker 0.1.0 0.3.0',
    ]);

    // Nothing older to go back to: nothing runs.
    p.clearLog();
    const third = await deploy('production', { rollback: 'true' });
    expect(third.error).toBeUndefined();
    expect(commands()).toEqual([]);
    expect(third.text).toMatch(/Skipped api: no good version before 0\.1\.0 is recorded/);
  });

  test('components narrows the undo to the latest deploy that changed them; the next press undoes the rest of that deploy', async () => {
    await history();
    p.clearLog();
    const worker = await deploy('production', { rollback: 'true', components: '["worker"]' });
    expect(worker.error).toBeUndefined();
    expect(commands()).toEqual(['rollback production worker 0.3.0 0.3.1']);
    // The hotfix did not change web: "roll back web" undoes the release that did.
    p.clearLog();
    const web = await deploy('production', { rollback: 'true', components: '["web"]' });
    expect(web.error).toBeUndefined();
    expect(commands()).toEqual(['rollback production web 0.1.0 1.2.0']);
    expect(web.text).toMatch(/The rollback undoes deployment #2 \(web@1\.2\.0,/);
    expect(web.text).not.toMatch(/api|worker/);
    p.clearLog();
    const rest = await deploy('production', { rollback: 'true' });
    expect(rest.error).toBeUndefined();
    expect(commands()).toEqual(['rollback production api 0.2.0 0.2.1']);
    expect(rest.text).toMatch(/Skipped worker: runs 0\.3\.0, not the 0\.3\.1 deployment #3 put there: left alone/);
    expect(running('production', 'web', 'api', 'worker')).toEqual({ web: '0.1.0', api: '0.2.0', worker: '0.3.0' });
  });

  test('a failed deploy left as it is (auto-rollback: false) is undone to the last good version, from the version it left', async () => {
    await history();
    // api 0.2.2 is deployed, then fails; with auto-rollback off it stays, unverified.
    configure(`[ "$SLIPWAY_VERSION" = 0.2.2 ] && { ${write}; exit 3; }; `);
    const failed = await deploy('production', { version: JSON.stringify({ api: '0.2.2' }), 'auto-rollback': 'false' });
    expect(failed.outputs.status).toBe('failed');
    const [entry] = await new FileLedger(p.dir).history('production');
    expect(entry.description).toMatch(/^left as it is \(auto-rollback off\): /);
    expect(running('production', 'api')).toEqual({ api: '0.2.2' });
    configure();
    p.clearLog();
    const press = await deploy('production', { rollback: 'true' });
    expect(press.error).toBeUndefined();
    expect(commands()).toEqual(['rollback production api 0.2.1 0.2.2']);
    expect(press.text).toMatch(/api unknown \(0\.2\.2\?\) → 0\.2\.1/);
  });

  test('a rollback never moves a component forward: one moved back since the deploy it undoes is left where it is', async () => {
    await history();
    // api alone back to 0.1.0 on purpose; worker still runs the hotfix's 0.3.1.
    expect(
      (await deploy('production', { rollback: 'true', 'to-version': '0.1.0', components: '["api"]' })).error,
    ).toBeUndefined();
    p.clearLog();
    const press = await deploy('production', { rollback: 'true' });
    expect(press.error).toBeUndefined();
    expect(commands()).toEqual(['rollback production worker 0.3.0 0.3.1']);
    expect(press.text).toMatch(/Skipped api: runs 0\.1\.0, not the 0\.2\.1 deployment #3 put there: left alone/);
    expect(running('production', 'web', 'api', 'worker')).toEqual({ web: '1.2.0', api: '0.1.0', worker: '0.3.0' });
  });

  test('slipway plan --event rollback shows the same undo; a to-version production never ran is a failed plan', async () => {
    await history();
    p.clearLog();
    const plan = await slipway(['plan', '--event', 'rollback', '--environment', 'production']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(
      /^rollback production: wave 1: api 0\.2\.1 → 0\.2\.0; wave 2: worker 0\.3\.1 → 0\.3\.0$/m,
    );

    const never = await slipway([
      'plan',
      '--event',
      'rollback',
      '--environment',
      'production',
      '--to-version',
      '1.2.0',
    ]);
    expect(never.code).toBe(1);
    const refusal =
      'input "to-version": api, worker never ran 1.2.0 on production (expected a version it ran there: 0.2.1, 0.2.0, 0.1.0; a version new to production is deployed with "version", through the promotion gate)';
    expect(never.stderr).toContain(`\n✘ rollback production: a real run would stop here: ${refusal}\n`);
    expect(never.stderr).toMatch(
      /^error: plan: rollback production failed: a real run would stop here: input "to-version"/m,
    );
    expect(commands()).toEqual([]);
  });
});

test('build-selective after a second rollback names the deployment that shipped each version put back', async () => {
  configure();
  const sha = (n: number) => p.repo.commit(`feat: change ${n}`, { [`change-${n}.txt`]: `${n}\n` });
  const first = sha(1);
  await release('staging', { api: '0.2.0', worker: '0.3.0', web: '1.2.0' });
  sha(2);
  await release('staging', { api: '0.2.1' });
  sha(3);
  await release('staging', { api: '0.2.2', worker: '0.3.1' });
  sha(4);
  await release('staging', { web: '1.2.1' });
  expect((await deploy('staging', { rollback: 'true' })).error).toBeUndefined();
  const second = await deploy('staging', { rollback: 'true' });
  expect(second.error).toBeUndefined();
  expect(JSON.parse(second.outputs.deployed)).toEqual({ api: '0.2.1', worker: '0.3.0' });

  const rt = createMemoryRuntime({ cwd: p.dir, env: {} });
  expect(await deploymentLookup(rt, '')('staging')).toBe(first);
  expect(rt.text()).toContain(
    `staging runs ${first.slice(0, 7)} — rollback #6 put back api@0.2.1, shipped by deployment #2; worker@0.3.0, shipped by deployment #1 (the base is #1's commit, the oldest).`,
  );
});

test('a to-version the environment never ran lists the versions it ran, highest first', async () => {
  configure();
  await release('staging', { api: '0.2.1' });
  await release('staging', { api: '0.2.2' });
  expect((await deploy('staging', { rollback: 'true', 'to-version': '0.2.1' })).error).toBeUndefined();
  await release('staging', { api: '0.2.3' });
  const refused = await deploy('staging', { rollback: 'true', 'to-version': '0.1.9', components: '["api"]' });
  expect(refused.error?.message).toContain('(expected a version it ran there: 0.2.3, 0.2.2, 0.2.1;');
});
