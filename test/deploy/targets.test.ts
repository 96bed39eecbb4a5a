/** Deploy targets: what the command target gives a command, its timeout, the plugin registry, and an unknown kind. */
import { jest } from '@jest/globals';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { runDeploy } from '../../src/deploy/deploy.js';
import { FileLedger } from '../../src/deploy/record/file-ledger.js';
import { TARGETS } from '../../src/deploy/targets/index.js';
import { TargetError, type TargetContext, type TargetFactory } from '../../src/deploy/targets/target.js';
import { createProduct, logged, type Product } from './fixture.js';

jest.setTimeout(60_000);

let p: Product;
beforeEach(async () => {
  p = await createProduct();
});
afterEach(async () => {
  await p.close();
});

/** Targets a plugin test adds to the ones deploy ships. */
const extraTargets: Record<string, TargetFactory> = {};

async function deploy(values: Record<string, string>) {
  const rt = p.runtime();
  const record = new FileLedger(p.dir);
  let error: Error | undefined;
  try {
    await runDeploy({
      inputs: p.inputs({ environment: 'staging', timeout: '2', ...values }),
      record,
      runtime: rt,
      targets: { ...TARGETS, ...extraTargets },
    });
  } catch (err) {
    error = err as Error;
  }
  return { rt, error, ledger: () => record.history('staging') };
}

const configure = (components: Record<string, unknown>) =>
  p.writeConfig(stringify({ components, environments: { staging: { url: p.url } } }));

describe('the command target', () => {
  test('a command gets its six SLIPWAY_* variables, and only through the environment', async () => {
    // Each deploy writes the SLIPWAY_* variables it sees, sorted, to env-<component>-<version>.
    const dump = 'env | grep "^SLIPWAY_[A-Z_]*=" | sort > "env-$SLIPWAY_COMPONENT-$SLIPWAY_VERSION"';
    configure({ api: { deploy: { run: `${dump}; ${logged()}` } } });
    expect((await deploy({ version: '1.0.0' })).error).toBeUndefined();
    expect((await deploy({ version: '1.1.0' })).error).toBeUndefined();
    const seen = Object.fromEntries(
      readFileSync(path.join(p.dir, 'env-api-1.1.0'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])
        .filter(([k]) =>
          [
            'SLIPWAY_VERSION',
            'SLIPWAY_PREVIOUS_VERSION',
            'SLIPWAY_COMPONENT',
            'SLIPWAY_ENVIRONMENT',
            'SLIPWAY_SHA',
            'SLIPWAY_ENVIRONMENT_URL',
          ].includes(k),
        ),
    );
    expect(seen).toEqual({
      SLIPWAY_COMPONENT: 'api',
      SLIPWAY_ENVIRONMENT: 'staging',
      SLIPWAY_ENVIRONMENT_URL: p.url,
      SLIPWAY_PREVIOUS_VERSION: '1.0.0',
      SLIPWAY_SHA: p.repo.head(),
      SLIPWAY_VERSION: '1.1.0',
    });
    // The first deployment has no previous version: the variable is set, and empty.
    expect(readFileSync(path.join(p.dir, 'env-api-1.0.0'), 'utf8')).toMatch(/^SLIPWAY_PREVIOUS_VERSION=$/m);
  });

  test('a command that outlasts its timeout fails the component with a one-line cause', async () => {
    configure({
      api: { deploy: { run: `${logged()}; sleep 30`, timeout: 1 } },
      web: { dependsOn: ['api'], deploy: { run: logged() } },
    });
    const r = await deploy({ version: '1.0.0' });
    expect(r.rt.outputs.status).toBe('failed');
    expect(r.error?.name).toBe('UserError');
    expect(r.error?.message).toMatch(/^deploy to staging failed at api 1\.0\.0: run command timed out after 1\.0 s; /);
    expect(r.error?.message.includes('\n')).toBe(false);
    // The command was killed and nothing after it started.
    expect(p.log().map((l) => `${l.event} ${l.component}`)).toEqual(['start api', 'end api']);
    expect((await r.ledger())[0]).toMatchObject({ state: 'failure' });
  });
});

describe('target plugins', () => {
  const calls: string[] = [];
  // A target added the way an SSH or Kubernetes target is: it keeps its own key (host).
  extraTargets['recording-test'] = ({ deploy, errorAt }) => {
    if (typeof deploy.host !== 'string') throw errorAt('host', 'a recording-test target needs "host"');
    const host = deploy.host;
    const write = (step: string, ctx: TargetContext) => {
      calls.push(`${step} ${ctx.component} ${ctx.version} ${ctx.previousVersion} on ${host}`);
      appendFileSync(
        path.join(ctx.cwd, 'deploy.log'),
        `${step} ${ctx.component} ${ctx.version} ${ctx.previousVersion}\n`,
      );
    };
    return {
      kind: 'recording-test',
      async deploy(ctx) {
        if (ctx.version === '9.9.9') throw new TargetError(`${host} refused ${ctx.version}`);
        write('start', ctx);
        ctx.onLine(`released on ${host}`);
      },
      async rollback(ctx) {
        write('rollback', ctx);
      },
      async status() {
        return null;
      },
      describe: () => ({ run: `release on ${host}` }),
    };
  };

  test('a registered target deploys, rolls back and shows in the plan like the command target', async () => {
    configure({
      db: { deploy: { run: logged() } },
      api: { dependsOn: ['db'], deploy: { target: 'recording-test', host: 'app-1.internal' } },
    });
    calls.length = 0;
    const ok = await deploy({ version: '1.0.0' });
    expect(ok.error).toBeUndefined();
    expect(calls).toEqual(['start api 1.0.0  on app-1.internal']);
    expect(ok.rt.text()).toContain('[api] released on app-1.internal');
    expect(JSON.parse(ok.rt.outputs.plan).waves[1][0]).toMatchObject({
      component: 'api',
      commands: { run: 'release on app-1.internal' },
    });
    // The plugin's failure rolls back db (command) and api (the plugin's rollback), in reverse order.
    p.clearLog();
    const bad = await deploy({ version: '9.9.9' });
    expect(bad.rt.outputs.status).toBe('rolled-back');
    expect(bad.error?.message).toMatch(/failed at api 9\.9\.9: app-1\.internal refused 9\.9\.9; rolled back/);
    expect(p.log().map((l) => `${l.event} ${l.component} ${l.version}`)).toEqual([
      'start db 9.9.9',
      'end db 9.9.9',
      'rollback api 1.0.0',
      'start db 1.0.0',
      'end db 1.0.0',
    ]);
  });

  test('bad plugin settings and an unknown target are one line naming the file and line of the policy file', async () => {
    p.writeConfig(
      [
        'components:',
        '  api:',
        '    deploy:',
        '      target: recording-test',
        '      user: deploy',
        'environments:',
        '  staging: {}',
        '',
      ].join('\n'),
    );
    const missing = await deploy({ version: '1.0.0' });
    expect(missing.error?.name).toBe('UserError');
    // A missing key points at the mapping that lacks it.
    expect(missing.error?.message).toBe(
      '.github/slipway.yml:3:5: components.api.deploy.host: a recording-test target needs "host"',
    );

    p.writeConfig(
      [
        'components:',
        '  db: { deploy: { run: "true" } }',
        '  api:',
        '    dependsOn: [db]',
        '    deploy:',
        '      target: nomad',
        '      run: "true"',
        'environments:',
        '  staging: {}',
        '',
      ].join('\n'),
    );
    const unknown = await deploy({ version: '1.0.0' });
    expect(unknown.error?.name).toBe('UserError');
    expect(unknown.error?.message).toMatch(
      /^\.github\/slipway\.yml:6:7: components\.api\.deploy\.target: unknown deploy target "nomad" \(expected one of: command, recording-test\)$/,
    );
    expect(p.log()).toEqual([]);
  });
});
