/** deploy against command targets that log, a real health server, and the file ledger. */
import { jest } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { runDeploy } from '../../src/deploy/deploy.js';
import type { MigrationStep } from '../../src/deploy/migrations.js';
import { FileLedger, LEDGER_PATH } from '../../src/deploy/record/file-ledger.js';
import { createProduct, indexOf, logged, loggedRollback, type LogLine, type Product } from './fixture.js';

jest.setTimeout(60_000);

let p: Product;
beforeEach(async () => {
  p = await createProduct();
});
afterEach(async () => {
  await p.close();
});

type Components = Record<string, Record<string, unknown>>;
const configure = (components: Components, url = p.url) =>
  p.writeConfig(stringify({ components, environments: { staging: { url }, production: { url, after: 'staging' } } }));
const health = (name: string) => [{ name: `${name}-health`, http: `/health/${name}` }];

async function deploy(values: Record<string, string>, extra: { migrations?: MigrationStep } = {}) {
  const rt = p.runtime();
  const record = new FileLedger(p.dir);
  let error: unknown;
  try {
    await runDeploy({
      inputs: p.inputs({ environment: 'staging', timeout: '2', ...values }),
      record,
      runtime: rt,
      ...extra,
    });
  } catch (err) {
    error = err;
  }
  return { rt, error: error as Error | undefined, outputs: rt.outputs, ledger: () => record.history('staging') };
}

/** A bash snippet that proves `self` and `other` run at the same time: each waits for the other's start. */
const meetInParallel = (self: string, other: string) =>
  `mkdir -p started; touch started/${self}; for i in $(seq 200); do [ -e started/${other} ] && break; sleep 0.025; done; [ -e started/${other} ]`;

const endsBeforeStart = (log: LogLine[], dep: string, name: string) =>
  indexOf(log, 'end', dep) >= 0 && indexOf(log, 'end', dep) < indexOf(log, 'start', name);

describe('the plan and its order', () => {
  test('deploys in dependency order, a wave in parallel', async () => {
    configure({
      db: { kind: 'data', deploy: { run: logged() } },
      api: { dependsOn: ['db'], deploy: { run: logged(meetInParallel('api', 'bot')) }, health: health('api') },
      bot: { dependsOn: ['db'], deploy: { run: logged(meetInParallel('bot', 'api')) } },
      web: { dependsOn: ['api'], deploy: { run: logged() }, health: health('web') },
      jobs: { dependsOn: ['api'], deploy: { run: logged() } },
      proxy: { dependsOn: ['web', 'bot'], deploy: { run: logged() } },
      shared: { kind: 'library', paths: ['libs/**'] },
    });
    const r = await deploy({ version: '1.0.0' });
    expect(r.error).toBeUndefined();
    expect(r.outputs.status).toBe('success');
    expect(JSON.parse(r.outputs.deployed)).toEqual({
      db: '1.0.0',
      api: '1.0.0',
      bot: '1.0.0',
      web: '1.0.0',
      jobs: '1.0.0',
      proxy: '1.0.0',
    });
    const plan = JSON.parse(r.outputs.plan);
    expect(plan.waves.map((w: { component: string }[]) => w.map((s) => s.component))).toEqual([
      ['db'],
      ['api', 'bot'],
      ['web', 'jobs'],
      ['proxy'],
    ]);
    expect(plan.skipped).toEqual([{ component: 'shared', reason: expect.stringContaining('nothing to deploy') }]);
    const log = p.log();
    for (const [dep, name] of [
      ['db', 'api'],
      ['db', 'bot'],
      ['api', 'web'],
      ['api', 'jobs'],
      ['web', 'proxy'],
      ['bot', 'proxy'],
    ])
      expect(endsBeforeStart(log, dep, name)).toBe(true);
    const [ledger] = await r.ledger();
    expect(ledger).toMatchObject({ state: 'success', task: 'deploy', versions: { api: '1.0.0', proxy: '1.0.0' } });
    expect(ledger.sha).toBe(p.repo.head());
    expect(r.rt.summaries.join('\n')).toContain('```mermaid');
  });

  test('parallel bounds the components in flight', async () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    configure(
      Object.fromEntries(
        names.map((n) => [
          n,
          {
            deploy: {
              run: logged(n === 'a' ? meetInParallel('a', 'b') : n === 'b' ? meetInParallel('b', 'a') : 'sleep 0.05'),
            },
          },
        ]),
      ),
    );
    const r = await deploy({ version: '2.0.0', parallel: '2' });
    expect(r.error).toBeUndefined();
    let inFlight = 0;
    let most = 0;
    for (const l of p.log()) {
      inFlight += l.event === 'start' ? 1 : -1;
      most = Math.max(most, inFlight);
    }
    expect(most).toBe(2);
    expect(p.log().filter((l) => l.event === 'end')).toHaveLength(5);
  });

  test('an unchanged dependency is not redeployed but still orders the run', async () => {
    configure({
      db: { deploy: { run: logged() } },
      api: { dependsOn: ['db'], deploy: { run: logged() } },
      web: { dependsOn: ['api'], deploy: { run: logged() } },
      proxy: { dependsOn: ['web'], deploy: { run: logged() } },
    });
    const r = await deploy({ version: '1.0.0', components: '["proxy","api"]' });
    expect(r.error).toBeUndefined();
    expect(p.log().map((l) => `${l.event} ${l.component}`)).toEqual([
      'start api',
      'end api',
      'start proxy',
      'end proxy',
    ]);
    expect(JSON.parse(r.outputs.plan).waves).toHaveLength(2);
  });

  test('dry-run prints the plan and the graph and changes nothing', async () => {
    configure({
      db: { deploy: { run: logged(), status: 'cat "state/$SLIPWAY_COMPONENT" 2>/dev/null || echo none' } },
      api: { dependsOn: ['db'], deploy: { run: logged(), rollback: loggedRollback() }, health: health('api') },
    });
    const r = await deploy({ version: '1.2.0', 'dry-run': 'true' });
    expect(r.error).toBeUndefined();
    expect(p.log()).toEqual([]);
    expect(existsSync(path.join(p.dir, LEDGER_PATH))).toBe(false);
    const plan = JSON.parse(r.outputs.plan);
    expect(plan.waves[1][0]).toMatchObject({
      component: 'api',
      current: null,
      next: '1.2.0',
      commands: { run: expect.stringContaining('start'), rollback: expect.stringContaining('rollback') },
      health: ['api-health'],
    });
    expect(r.rt.text()).toContain('db on staging: running none (status command)');
    const summary = r.rt.summaries.join('\n');
    expect(summary).toContain('dry run');
    // Node ids are n0, n1, … in declaration order, labelled with the names.
    expect(summary).toMatch(/```mermaid\nflowchart LR\n {2}n0\["db"\][\s\S]*n0 --> n1/);
  });

  test("a refusal is in the plan output's refusal: a dry run reports it and succeeds, a real run fails with it", async () => {
    configure({ api: { deploy: { run: logged() } } });
    const first = await deploy({ version: '2.0.0' });
    expect(first.error).toBeUndefined();
    expect(JSON.parse(first.outputs.plan).refusal).toBeNull();
    p.clearLog();
    const refusal =
      'refusing to deploy to staging: api 1.0.0 is older than the 2.0.0 it runs (to go back on purpose use rollback: true with to-version, or set allow-downgrade: true)';

    // The pipeline's plan reads `refusal` to show this deploy failed; status keeps meaning "the dry run ran".
    const dry = await deploy({ version: '1.0.0', 'dry-run': 'true' });
    expect(dry.error).toBeUndefined();
    expect(dry.outputs.status).toBe('success');
    expect(JSON.parse(dry.outputs.plan)).toMatchObject({ environment: 'staging', refusal });
    expect(dry.rt.records.filter((l) => l.level === 'warning').map((l) => l.message)).toEqual([
      `A real run would stop here: ${refusal}`,
    ]);
    expect(dry.rt.summaries.join('\n')).toContain(`**A real run would stop here:** ${refusal}`);
    expect(p.log()).toEqual([]);

    const real = await deploy({ version: '1.0.0' });
    expect(real.error?.message).toBe(refusal);
    expect(real.outputs.status).toBe('failed');
    expect(JSON.parse(real.outputs.plan).refusal).toBe(refusal);
    expect(p.log()).toEqual([]);
  });

  test('a dependency cycle is a config error naming the file and the cycle', async () => {
    configure({ a: { dependsOn: ['b'], deploy: { run: 'true' } }, b: { dependsOn: ['a'], deploy: { run: 'true' } } });
    const r = await deploy({ version: '1.0.0' });
    expect(r.error?.name).toBe('UserError');
    expect(r.error?.message).toMatch(/^\.github\/slipway\.yml:\d+:\d+: .*dependency cycle: a → b → a/);
  });

  test('bad inputs name the input', async () => {
    configure({ a: { deploy: { run: 'true' } } });
    expect((await deploy({ version: '' })).error?.message).toMatch(/input "version" is required/);
    expect((await deploy({ version: '1.0.0', components: '["nope"]' })).error?.message).toMatch(
      /input "components": unknown component "nope".*expected one of: a/,
    );
    expect((await deploy({ version: '1.0.0', environment: 'qa' })).error?.message).toMatch(
      /input "environment": unknown environment "qa".*staging, production/,
    );
    expect((await deploy({ version: '1.0; rm -rf /' })).error?.message).toMatch(/input "version": expected a version/);
  });
});

describe('failures and the automatic rollback', () => {
  const product = (): Components => ({
    db: { kind: 'data', deploy: { run: logged() } },
    api: {
      dependsOn: ['db'],
      deploy: {
        run: logged('[ "$SLIPWAY_VERSION" != 1.1.0 ] || [ -z "$FAIL_API" ] || exit 3'),
        rollback: loggedRollback(),
      },
      health: health('api'),
    },
    web: { dependsOn: ['api'], deploy: { run: logged() }, health: health('web') },
    jobs: { dependsOn: ['web'], deploy: { run: logged() } },
  });

  test('a failed health check rolls back in reverse wave order to the recorded versions', async () => {
    configure(product());
    expect((await deploy({ version: '1.0.0' })).error).toBeUndefined();
    p.clearLog();
    p.bad.set('web', new Set(['1.1.0']));
    const r = await deploy({ version: '1.1.0' });
    expect(r.outputs.status).toBe('rolled-back');
    expect(r.error?.name).toBe('UserError');
    expect(r.error?.message).toMatch(/failed at web 1\.1\.0: health checks failed: web-health: .*503.*rolled back/);
    const log = p.log();
    expect(indexOf(log, 'start', 'jobs')).toBe(-1);
    // web has no rollback command: its run deploys the old version; api uses its rollback command.
    const back = log.filter((l) => l.version === '1.0.0');
    expect(back.map((l) => `${l.event} ${l.component} ${l.previous}`)).toEqual([
      'start web 1.1.0',
      'end web 1.1.0',
      'rollback api 1.1.0',
      'start db 1.1.0',
      'end db 1.1.0',
    ]);
    expect(JSON.parse(r.outputs.deployed)).toEqual({ db: '1.0.0', api: '1.0.0', web: '1.0.0' });
    expect(r.outputs['previous-version']).toBe('1.0.0');
    const [last, first] = await r.ledger();
    expect(last).toMatchObject({ state: 'failure', versions: { web: '1.1.0' } });
    expect(first).toMatchObject({ state: 'success' });
    expect(readFileSync(path.join(p.dir, 'state', 'web'), 'utf8').trim()).toBe('1.0.0');
    const summary = r.rt.summaries.join('\n');
    expect(summary).toContain('rolled-back: to 1.0.0');
    expect(summary).toMatch(/web \| 1\.0\.0 → 1\.1\.0 \| unhealthy/);
  });

  test('a failed command rolls back; without auto-rollback the environment is left alone', async () => {
    configure(product());
    expect((await deploy({ version: '1.0.0' })).error).toBeUndefined();
    p.clearLog();
    process.env.FAIL_API = '1';
    try {
      const r = await deploy({ version: '1.1.0' });
      expect(r.outputs.status).toBe('rolled-back');
      expect(r.error?.message).toMatch(/failed at api 1\.1\.0: run command exited with 3/);
      expect(
        p
          .log()
          .filter((l) => l.event === 'rollback')
          .map((l) => l.component),
      ).toEqual(['api']);
      p.clearLog();
      const off = await deploy({ version: '1.1.0', 'auto-rollback': 'false' });
      expect(off.outputs.status).toBe('failed');
      expect(p.log().some((l) => l.version === '1.0.0')).toBe(false);
      expect(off.rt.text()).toContain('auto-rollback is off');
    } finally {
      delete process.env.FAIL_API;
    }
  });

  test('a first deployment that fails has nothing to roll back to and ends failed', async () => {
    configure(product());
    p.bad.set('api', new Set(['1.0.0']));
    const r = await deploy({ version: '1.0.0' });
    expect(r.outputs.status).toBe('failed');
    expect(r.error?.message).toMatch(/; db, api: first deploy, no earlier version to roll back to$/);
    // The record keeps 140 characters: a cut one says so.
    const [entry] = await r.ledger();
    expect(entry.description).toHaveLength(140);
    expect(entry.description!.endsWith('…')).toBe(true);
    expect(r.rt.summaries.join('\n')).toContain('left: no earlier good version is recorded');
  });

  test('a run whose only step that ran was a failed migration rolled nothing back: failed', async () => {
    const failing: MigrationStep = async ({ version }) => {
      if (version === '1.1.0') throw new Error('002_bad.sql: syntax error at or near "TABLEE"');
      return { applied: ['001_init.sql'], backup: null, breaking: [] };
    };
    configure({
      schema: { kind: 'migrations', migrate: { dir: 'migrations' } },
      api: { dependsOn: ['schema'], deploy: { run: logged(), rollback: loggedRollback() } },
    });
    expect((await deploy({ version: '1.0.0' }, { migrations: failing })).error).toBeUndefined();
    p.clearLog();
    const r = await deploy({ version: '1.1.0' }, { migrations: failing });
    expect(r.outputs.status).toBe('failed');
    expect(r.error?.message).toMatch(
      /failed at schema 1\.1\.0: 002_bad\.sql: syntax error .*; nothing this run deployed could be rolled back$/,
    );
    // The failed migration's transaction was rolled back: the schema is still the 1.0.0 release's.
    expect(JSON.parse(r.outputs.deployed)).toEqual({ schema: '1.0.0' });
    expect(p.log()).toEqual([]);
    expect((await r.ledger())[0]).toMatchObject({ state: 'failure' });
  });

  describe('schema safety', () => {
    // The migrations engine's outcome as deploy sees it: applied migrations, the backup, and
    // the lint's findings that the previous version cannot run on.
    const breaking: MigrationStep = async ({ version }) => ({
      applied: version === '1.1.0' ? ['002_drop_email.sql'] : ['001_init.sql'],
      backup: version === '1.1.0' ? '.slipway/backups/staging-1.1.0.sql' : null,
      breaking: version === '1.1.0' ? ['002_drop_email.sql: DROP COLUMN users.email'] : [],
    });
    const withSchema = (): Components => ({
      db: { deploy: { run: logged() } },
      schema: { kind: 'migrations', dependsOn: ['db'], migrate: { dir: 'migrations' } },
      api: { dependsOn: ['schema'], deploy: { run: logged(), rollback: loggedRollback() }, health: health('api') },
      web: { dependsOn: ['api'], deploy: { run: logged() }, health: health('web') },
    });

    test('stops before the components that need the new schema and points to the backup', async () => {
      configure(withSchema());
      expect((await deploy({ version: '1.0.0' }, { migrations: breaking })).error).toBeUndefined();
      p.clearLog();
      p.bad.set('web', new Set(['1.1.0']));
      const r = await deploy({ version: '1.1.0' }, { migrations: breaking });
      expect(r.outputs.status).toBe('failed');
      const stop = r.rt.records.find((l) => l.level === 'error' && l.message.startsWith('Automatic rollback stopped'));
      expect(stop?.message).toMatch(
        /before api, web: the migrations of schema .*DROP COLUMN users\.email.*\.slipway\/backups\/staging-1\.1\.0\.sql.*force-rollback/,
      );
      expect(stop?.message.includes('\n')).toBe(false);
      // db does not need the schema: it goes back; api and web stay.
      expect(
        p
          .log()
          .filter((l) => l.version === '1.0.0')
          .map((l) => l.component),
      ).toEqual(['db', 'db']);
      expect(r.error?.message).toMatch(/schema-safety/);
    });

    test('force-rollback rolls everything back anyway', async () => {
      configure(withSchema());
      expect((await deploy({ version: '1.0.0' }, { migrations: breaking })).error).toBeUndefined();
      p.clearLog();
      p.bad.set('web', new Set(['1.1.0']));
      const r = await deploy({ version: '1.1.0', 'force-rollback': 'true' }, { migrations: breaking });
      expect(r.outputs.status).toBe('rolled-back');
      expect(
        p
          .log()
          .filter((l) => l.version === '1.0.0')
          .map((l) => `${l.event} ${l.component}`),
      ).toEqual(['start web', 'end web', 'rollback api', 'start db', 'end db']);
    });

    test('a migrations step without its database URL fails the run before anything that needs the schema', async () => {
      configure(withSchema());
      const r = await deploy({ version: '1.0.0' });
      expect(r.outputs.status).toBe('failed');
      expect(r.error?.message).toMatch(
        /failed at schema 1\.0\.0: components\.schema\.migrate\.database: the variable DATABASE_URL is empty/,
      );
      expect(indexOf(p.log(), 'start', 'api')).toBe(-1);
    });
  });
});

describe('manual rollback', () => {
  test('goes back to the version before the current one, or to to-version', async () => {
    configure({
      api: { deploy: { run: logged(), rollback: loggedRollback() }, health: health('api') },
      web: { dependsOn: ['api'], deploy: { run: logged() } },
    });
    for (const v of ['1.0.0', '1.1.0', '1.2.0']) expect((await deploy({ version: v })).error).toBeUndefined();
    p.clearLog();
    const r = await deploy({ rollback: 'true' });
    expect(r.error).toBeUndefined();
    expect(JSON.parse(r.outputs.deployed)).toEqual({ api: '1.1.0', web: '1.1.0' });
    // A manual rollback goes through the plan in dependency order, each component by its own
    // way back: its rollback command when it has one (api), else its run (web).
    expect(p.log().map((l) => `${l.event} ${l.component} ${l.version} ${l.previous}`)).toEqual([
      'rollback api 1.1.0 1.2.0',
      'start web 1.1.0 1.2.0',
      'end web 1.1.0 1.2.0',
    ]);
    expect((await r.ledger())[0]).toMatchObject({
      task: 'deploy:rollback',
      state: 'success',
      versions: { api: '1.1.0' },
    });

    const to = await deploy({ rollback: 'true', 'to-version': 'v1.0.0', components: '["api"]' });
    expect(to.error).toBeUndefined();
    expect(JSON.parse(to.outputs.deployed)).toEqual({ api: '1.0.0' });
    expect(to.outputs['previous-version']).toBe('1.1.0');
  });

  test('a manual rollback that fails its health goes back to the current versions', async () => {
    configure({ api: { deploy: { run: logged() }, health: health('api') } });
    for (const v of ['1.0.0', '1.1.0']) expect((await deploy({ version: v })).error).toBeUndefined();
    p.bad.set('api', new Set(['1.0.0']));
    p.clearLog();
    const r = await deploy({ rollback: 'true' });
    expect(r.outputs.status).toBe('rolled-back');
    expect(p.log().map((l) => `${l.event} ${l.version}`)).toEqual([
      'start 1.0.0',
      'end 1.0.0',
      'start 1.1.0',
      'end 1.1.0',
    ]);
  });

  test('to-version takes any version that version takes, and refuses others in one line', async () => {
    configure({ api: { deploy: { run: logged() } } });
    for (const v of ['2024.06.1', '2024.07.0-build_7', '2024.08.2'])
      expect((await deploy({ version: v })).error).toBeUndefined();
    const r = await deploy({ rollback: 'true', 'to-version': 'v2024.07.0-build_7' });
    expect(r.error).toBeUndefined();
    expect(JSON.parse(r.outputs.deployed)).toEqual({ api: '2024.07.0-build_7' });
    expect(() => p.inputs({ environment: 'staging', rollback: 'true', 'to-version': '1.0; rm -rf /' })).toThrow(
      /^input "to-version": expected a version such as 1\.4\.0 \(letters, digits, \. \+ _ -\), got "1\.0; rm -rf \/"$/,
    );
  });

  test('to-version must be a version the environment ran: a rollback never brings a new version past the promotion gate', async () => {
    configure({ api: { deploy: { run: logged() } }, web: { deploy: { run: logged() } } });
    for (const v of ['1.0.0', '1.1.0']) expect((await deploy({ version: v })).error).toBeUndefined();
    // api also ran 1.2.0.
    expect((await deploy({ version: '1.2.0', components: '["api"]' })).error).toBeUndefined();
    p.clearLog();
    const ahead = await deploy({ rollback: 'true', 'to-version': '5.5.5' });
    expect(ahead.error?.message).toBe(
      'input "to-version": api, web never ran 5.5.5 on staging (expected a version it ran there: 1.2.0, 1.1.0, 1.0.0; a version new to staging is deployed with "version", through the promotion gate)',
    );
    expect(p.log()).toEqual([]);
    // A version every selected component ran is fine.
    const back = await deploy({ rollback: 'true', 'to-version': '1.0.0' });
    expect(back.error).toBeUndefined();
    expect(JSON.parse(back.outputs.deployed)).toEqual({ api: '1.0.0', web: '1.0.0' });
  });

  test('to-version needs rollback', async () => {
    configure({ api: { deploy: { run: logged() } } });
    expect((await deploy({ version: '1.0.0', 'to-version': '0.9.0' })).error?.message).toMatch(
      /input "to-version": only applies with rollback: true/,
    );
  });
});

describe('the environment lock', () => {
  test('two runs at once: the second waits for the first', async () => {
    configure({ api: { deploy: { run: logged('sleep 0.3') } }, web: { deploy: { run: logged('sleep 0.3') } } });
    // Either may go first: the one that waits may be the older version, which is allowed here on purpose.
    const [a, b] = await Promise.all([
      deploy({ version: '2.0.0', 'allow-downgrade': 'true' }),
      deploy({ version: '3.0.0', 'allow-downgrade': 'true' }),
    ]);
    expect(a.error).toBeUndefined();
    expect(b.error).toBeUndefined();
    const versions = p.log().map((l) => l.version);
    // All of one run's lines come before all of the other's.
    const firstOther = versions.findIndex((v) => v !== versions[0]);
    expect(versions.slice(firstOther).every((v) => v !== versions[0])).toBe(true);
    expect(a.rt.text() + b.rt.text()).toMatch(/Waiting for deployment #1 by .* to staging to finish/);
    const ledger = await a.ledger();
    expect(ledger.map((e) => e.state)).toEqual(['success', 'success']);
  });

  test('heartbeat: a deployment longer than lock-ttl is not taken over by a run waiting for it', async () => {
    configure({ api: { deploy: { run: logged('sleep 3') } } });
    const first = deploy({ version: '1.0.0', 'lock-ttl': '1' });
    while (!p.log().some((l) => l.event === 'start')) await new Promise((r) => setTimeout(r, 25));
    const second = await deploy({ version: '2.0.0', 'lock-ttl': '1', 'lock-timeout': '60' });
    const a = await first;
    expect(a.error).toBeUndefined();
    expect(second.error).toBeUndefined();
    expect(second.rt.text()).not.toMatch(/more than lock-ttl/);
    expect(second.rt.text()).toMatch(/Waiting for deployment #1 by .* to staging to finish/);
    expect(p.log().map((l) => `${l.event} ${l.version}`)).toEqual([
      'start 1.0.0',
      'end 1.0.0',
      'start 2.0.0',
      'end 2.0.0',
    ]);
    expect((await a.ledger()).map((e) => `${e.id} ${e.state}`)).toEqual(['2 success', '1 success']);
  });

  function holder(updatedAt: Date) {
    mkdirSync(path.join(p.dir, '.slipway'), { recursive: true });
    const at = updatedAt.toISOString();
    writeFileSync(
      path.join(p.dir, LEDGER_PATH),
      JSON.stringify({
        version: 1,
        nextId: 8,
        deployments: [
          {
            id: '7',
            environment: 'staging',
            task: 'deploy',
            ref: 'main',
            sha: 'abc',
            versions: { api: '0.9.0' },
            state: 'in_progress',
            creator: 'alice',
            createdAt: at,
            updatedAt: at,
          },
        ],
      }),
    );
  }

  test('lock-timeout: a fresh holder makes the run give up, naming it', async () => {
    configure({ api: { deploy: { run: logged() } } });
    holder(new Date());
    const r = await deploy({ version: '1.0.0', 'lock-timeout': '0' });
    expect(r.error?.name).toBe('UserError');
    expect(r.error?.message).toMatch(/^lock-timeout: deployment #7 by alice .* to staging is still in progress/);
    expect(p.log()).toEqual([]);
  });

  test('lock-ttl: a stale holder is marked error, logged, and taken over', async () => {
    configure({ api: { deploy: { run: logged() } } });
    holder(new Date(Date.now() - 2 * 3600_000));
    const r = await deploy({ version: '1.0.0', 'lock-timeout': '0', 'lock-ttl': '3600' });
    expect(r.error).toBeUndefined();
    expect(r.rt.records.find((l) => l.level === 'warning')?.message).toMatch(/#7 by alice .* more than lock-ttl/);
    const [mine, stale] = await r.ledger();
    expect(mine).toMatchObject({ id: '8', state: 'success' });
    expect(stale).toMatchObject({ id: '7', state: 'error', description: expect.stringContaining('stale') });
  });
});
