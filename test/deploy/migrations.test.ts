/** deploy with a migrations step on a real PostgreSQL server, through the migrate domain. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { runDeploy } from '../../src/deploy/deploy.js';
import { FileLedger } from '../../src/deploy/record/file-ledger.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { createProduct, logged, loggedRollback, type Product } from './fixture.js';

let pg: TestPostgres;
let p: Product;
beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(() => pg?.stop());
beforeEach(async () => {
  p = await createProduct();
  mkdirSync(path.join(p.dir, 'migrations'), { recursive: true });
  writeFileSync(
    path.join(p.dir, 'migrations', '001_users.sql'),
    'CREATE TABLE users (id int PRIMARY KEY, email text);\n',
  );
  p.writeConfig(
    stringify({
      components: {
        db: { deploy: { run: logged() } },
        schema: { kind: 'migrations', dependsOn: ['db'], migrate: { dir: 'migrations', database: { env: 'APP_DB' } } },
        api: {
          dependsOn: ['schema'],
          deploy: { run: logged(), rollback: loggedRollback() },
          health: [{ http: '/health/api' }],
        },
        web: { dependsOn: ['api'], deploy: { run: logged() }, health: [{ http: '/health/web' }] },
      },
      environments: { staging: { url: p.url } },
    }),
  );
});
afterEach(async () => {
  await p.close();
});

async function deploy(dbUrl: string, values: Record<string, string>) {
  const rt = createMemoryRuntime({
    cwd: p.dir,
    env: {
      ...process.env,
      DEPLOY_LOG: path.join(p.dir, 'deploy.log'),
      APP_DB: dbUrl,
      RUNNER_TEMP: path.join(p.dir, 'tmp'),
    },
  });
  let error: Error | undefined;
  try {
    await runDeploy({
      inputs: p.inputs({ environment: 'staging', timeout: '2', ...values }),
      record: new FileLedger(p.dir),
      runtime: rt,
    });
  } catch (err) {
    error = err as Error;
  }
  return { rt, error };
}

test('a breaking migration stops the automatic rollback before the application and names the backup', async () => {
  const db = pg.createDatabase();
  const first = await deploy(db, { version: '1.0.0' });
  expect(first.error).toBeUndefined();
  expect(first.rt.text()).toMatch(/\[schema\] 1 migration\(s\) applied/);

  writeFileSync(
    path.join(p.dir, 'migrations', '002_rename_email.sql'),
    'ALTER TABLE users RENAME COLUMN email TO mail;\n',
  );
  p.bad.set('web', new Set(['1.1.0']));
  p.clearLog();
  const r = await deploy(db, { version: '1.1.0' });
  expect(r.rt.outputs.status).toBe('failed');
  const stop = r.rt.records.find((l) => l.level === 'error' && l.message.startsWith('Automatic rollback stopped'));
  expect(stop?.message).toMatch(
    /before api, web: the migrations of schema applied .*002_rename_email\.sql.*the backup taken before them is (\S+);/,
  );
  const backup = /the backup taken before them is (\S+);/.exec(stop!.message)![1];
  expect(existsSync(path.resolve(p.dir, backup))).toBe(true);
  expect(
    p
      .log()
      .filter((l) => l.version === '1.0.0')
      .map((l) => l.component),
  ).toEqual(['db', 'db']);

  // force-rollback: the application goes back too (the schema stays: migrations are forward-only).
  p.clearLog();
  const forced = await deploy(db, { version: '1.1.0', 'force-rollback': 'true' });
  expect(forced.rt.outputs.status).toBe('rolled-back');
  expect(p.log().some((l) => l.event === 'rollback' && l.component === 'api')).toBe(true);
});

test('a failed migration stops the run before the components that need the schema', async () => {
  const db = pg.createDatabase();
  writeFileSync(path.join(p.dir, 'migrations', '002_broken.sql'), 'ALTER TABLE nope ADD COLUMN x int;\n');
  const r = await deploy(db, { version: '1.0.0' });
  expect(r.rt.outputs.status).toBe('failed');
  expect(r.error?.message).toMatch(/failed at schema 1\.0\.0: .*nope/);
  expect(p.log().map((l) => l.component)).toEqual(['db', 'db']);
});

test('locally, a migrations step without a URL migrates the embedded database and the ledger records the run', async () => {
  const { deployLocally } = await import('../../src/deploy/local.js');
  const rt = createMemoryRuntime({ cwd: p.dir, env: { ...process.env, DEPLOY_LOG: path.join(p.dir, 'deploy.log') } });
  await deployLocally(p.inputs({ environment: 'staging', version: '1.0.0', timeout: '2' }), rt);
  expect(rt.outputs.status).toBe('success');
  expect(rt.text()).toMatch(/\[schema\] 1 migration\(s\) applied/);
  expect(existsSync(path.join(p.dir, '.slipway/db'))).toBe(true);
  const [entry] = await new FileLedger(p.dir).history('staging');
  expect(entry).toMatchObject({ state: 'success', versions: { schema: '1.0.0', api: '1.0.0', web: '1.0.0' } });
});

test('a missing migrations folder is named by its policy key, not the migrate action input', async () => {
  p.writeConfig(
    stringify({
      components: {
        schema: { kind: 'migrations', migrate: { dir: 'db/missing', database: { env: 'APP_DB' } } },
        api: { dependsOn: ['schema'], deploy: { run: logged() } },
      },
      environments: { staging: { url: p.url } },
    }),
  );
  // The folder is read before the database is opened: no server is needed to meet it.
  const r = await deploy('postgres://app@127.0.0.1:1/app', { version: '1.0.0' });
  expect(r.rt.outputs.status).toBe('failed');
  expect(r.error?.message).toMatch(
    /failed at schema 1\.0\.0: components\.schema\.migrate\.dir: the migrations folder db\/missing does not exist/,
  );
  expect(r.rt.text()).not.toContain('input "dir"');
  expect(p.log()).toEqual([]);
});
