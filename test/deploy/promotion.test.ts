/** environments.<name>.after enforced by deploy, with the file ledger as the record. */
import { jest } from '@jest/globals';
import { stringify } from 'yaml';
import { runDeploy } from '../../src/deploy/deploy.js';
import { FileLedger } from '../../src/deploy/record/file-ledger.js';
import { createProduct, logged, type Product } from './fixture.js';

jest.setTimeout(60_000);

let p: Product;
beforeEach(async () => {
  p = await createProduct();
  p.writeConfig(
    stringify({
      components: {
        api: { deploy: { run: logged() }, health: [{ http: '/health/api' }] },
        web: { dependsOn: ['api'], deploy: { run: logged() } },
      },
      environments: { staging: { url: p.url }, production: { url: p.url, after: 'staging' } },
    }),
  );
});
afterEach(async () => {
  await p.close();
});

async function deploy(environment: string, values: Record<string, string>) {
  const rt = p.runtime();
  const record = new FileLedger(p.dir);
  let error: Error | undefined;
  try {
    await runDeploy({ inputs: p.inputs({ environment, timeout: '2', ...values }), record, runtime: rt });
  } catch (err) {
    error = err as Error;
  }
  return { rt, error, history: () => record.history(environment) };
}

test('a version never deployed to the earlier environment is refused in one line, before anything runs', async () => {
  const r = await deploy('production', { version: '1.0.0' });
  expect(r.error?.name).toBe('UserError');
  expect(r.error?.message).toBe(
    'refusing to deploy to production: api 1.0.0, web 1.0.0 have not been deployed successfully to staging, ' +
      'and environments.production.after in .github/slipway.yml requires it (deploy them to staging first)',
  );
  expect(r.rt.outputs.status).toBe('failed');
  expect(p.log()).toEqual([]);
  expect(await r.history()).toEqual([]);
});

test('once staging ran the version successfully, production takes it; a rolled-back staging run does not count', async () => {
  expect((await deploy('staging', { version: '1.0.0' })).error).toBeUndefined();
  expect((await deploy('production', { version: '1.0.0' })).error).toBeUndefined();
  expect(p.log().filter((l) => l.event === 'end')).toHaveLength(4);

  // 1.1.0 of api is unhealthy on staging: rolled back there, so production refuses it.
  p.bad.set('api', new Set(['1.1.0']));
  const staging = await deploy('staging', { version: '1.1.0' });
  expect(staging.rt.outputs.status).toBe('rolled-back');
  p.bad.clear();
  p.clearLog();
  const refused = await deploy('production', { version: '1.1.0' });
  expect(refused.error?.message).toMatch(/^refusing to deploy to production: api 1\.1\.0, web 1\.1\.0 have not been/);
  expect(p.log()).toEqual([]);
});

test('the rule is per component: each component of the run needs its own version on staging', async () => {
  expect((await deploy('staging', { version: '{"api":"2.0.0","web":"2.0.1"}' })).error).toBeUndefined();
  // web 2.0.0 never ran on staging (web ran 2.0.1).
  const r = await deploy('production', { version: '2.0.0' });
  expect(r.error?.message).toMatch(
    /^refusing to deploy to production: web 2\.0\.0 has not been deployed successfully to staging, .*\(deploy it to staging first\)$/,
  );
  // Only what the run deploys is checked.
  const api = await deploy('production', { version: '2.0.0', components: '["api"]' });
  expect(api.error).toBeUndefined();
  expect((await api.history())[0]).toMatchObject({ state: 'success', versions: { api: '2.0.0' } });
});

test('a dry run warns that the real run would be refused, and changes nothing', async () => {
  const r = await deploy('production', { version: '3.0.0', 'dry-run': 'true' });
  expect(r.error).toBeUndefined();
  expect(r.rt.records.find((l) => l.level === 'warning')?.message).toMatch(
    /^A real run would stop here: refusing to deploy to production: api 3\.0\.0, web 3\.0\.0/,
  );
  expect(p.log()).toEqual([]);
});

test('a manual rollback is exempt: it puts back what already ran on the environment', async () => {
  // Production ran 0.9.0 and 1.0.0 before the policy said "after: staging"; staging never ran 0.9.0.
  const policy = (after?: string) =>
    p.writeConfig(
      stringify({
        components: { api: { deploy: { run: logged() } } },
        environments: { staging: { url: p.url }, production: { url: p.url, ...(after ? { after } : {}) } },
      }),
    );
  policy();
  for (const v of ['0.9.0', '1.0.0']) expect((await deploy('production', { version: v })).error).toBeUndefined();
  policy('staging');
  expect((await deploy('production', { version: '1.1.0' })).error?.message).toMatch(
    /^refusing to deploy to production/,
  );
  p.clearLog();
  const r = await deploy('production', { rollback: 'true' });
  expect(r.error).toBeUndefined();
  expect(p.log().map((l) => `${l.event} ${l.component} ${l.version}`)).toEqual(['start api 0.9.0', 'end api 0.9.0']);
  expect((await r.history())[0]).toMatchObject({
    task: 'deploy:rollback',
    state: 'success',
    versions: { api: '0.9.0' },
  });
});
