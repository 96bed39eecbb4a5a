/** The bundled deploy action, run as a runner runs it, with the ledger as its record. */
import { stringify } from 'yaml';
import { errorLines, runBundledAction } from '../helpers/run-action.js';
import { createProduct, logged, type Product } from './fixture.js';

let p: Product;
beforeAll(async () => {
  p = await createProduct();
  p.writeConfig(
    stringify({
      components: {
        api: { deploy: { run: logged() }, health: [{ http: '/health/api' }] },
        web: { dependsOn: ['api'], deploy: { run: logged() } },
      },
      environments: { staging: { url: p.url } },
    }),
  );
});
afterAll(async () => {
  await p.close();
});

test('deploys, sets the outputs and the summary, and fails in one line when a version is unhealthy', async () => {
  const env = { DEPLOY_LOG: `${p.dir}/deploy.log` };
  const ok = await runBundledAction('deploy', {
    cwd: p.dir,
    env,
    inputs: { environment: 'staging', version: 'v1.0.0' },
  });
  expect(ok.code).toBe(0);
  expect(ok.outputs.status).toBe('success');
  expect(JSON.parse(ok.outputs.deployed)).toEqual({ api: '1.0.0', web: '1.0.0' });
  expect(ok.outputs['deployment-id']).toBe('1');
  expect(ok.outputs['environment-url']).toBe(p.url);
  expect(ok.summary).toContain('```mermaid');
  expect(ok.stdout).toContain('::group::Deploy api (none) → 1.0.0');
  // Each output once: a runner's step outputs take the last value, but a repeat is noise (and was a bug).
  expect([...ok.outputNames].sort()).toEqual(
    ['deployed', 'deployment-id', 'environment-url', 'plan', 'previous-version', 'status'].sort(),
  );

  p.bad.set('api', new Set(['1.1.0']));
  const bad = await runBundledAction('deploy', {
    cwd: p.dir,
    env,
    inputs: { environment: 'staging', version: '1.1.0', timeout: '1' },
  });
  expect(bad.code).toBe(1);
  expect(bad.outputs.status).toBe('rolled-back');
  expect(JSON.parse(bad.outputs.deployed)).toEqual({ api: '1.0.0' });
  expect(bad.outputs['previous-version']).toBe('1.0.0');
  expect(new Set(bad.outputNames).size).toBe(bad.outputNames.length);
  const errors = errorLines(bad);
  expect(errors.at(-1)).toMatch(
    /^::error ?::deploy to staging failed at api 1\.1\.0: health checks failed: .*rolled back/,
  );
  expect(bad.stdout).not.toMatch(/\n\s+at /);
});

test('after a rollback whose health check failed, deployed names the version the rollback put back', async () => {
  const env = { DEPLOY_LOG: `${p.dir}/deploy.log` };
  expect(
    (await runBundledAction('deploy', { cwd: p.dir, env, inputs: { environment: 'staging', version: '2.0.0' } })).code,
  ).toBe(0);
  // 2.1.0 is unhealthy, and so is 2.0.0 once it is back (its database moved on, say).
  p.bad.set('api', new Set(['2.1.0', '2.0.0']));
  const run = await runBundledAction('deploy', {
    cwd: p.dir,
    env,
    inputs: { environment: 'staging', version: '2.1.0', timeout: '1' },
  });
  expect(run.code).toBe(1);
  expect(run.outputs.status).toBe('failed');
  expect(JSON.parse(run.outputs.deployed)).toEqual({ api: '2.0.0' });
  expect(run.summary).toMatch(/api.*2\.0\.0/);
  p.bad.clear();
});
