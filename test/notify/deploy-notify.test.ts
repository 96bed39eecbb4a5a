import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { inputVariable, parseInputs } from '../../src/core/inputs.js';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { deploy } from '../../src/deploy/deploy-action.js';
import { deployLocally } from '../../src/deploy/local.js';
import { createRepo } from '../helpers/git-repo.js';

let server: Server;
let base = '';
const bodies: { text: string; event: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      bodies.push(JSON.parse(data));
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('deploy sends notifications', () => {
  it('posts deploy-succeeded, then deploy-rolled-back for a failed command, and a dead webhook never fails the deploy', async () => {
    const repo = createRepo();
    repo.commit('feat: app', {
      '.github/slipway.yml': [
        'components:',
        '  api: { paths: [api/**], deploy: { run: "test \\"$SLIPWAY_VERSION\\" != 9.9.9" } }',
        'environments:',
        '  production: { url: https://example.com }',
        'notify:',
        '  - webhook: { env: HOOK }',
        '    events: [deploy-succeeded, deploy-failed, deploy-rolled-back]',
        '  - webhook: { env: DEAD_HOOK }',
        '',
      ].join('\n'),
    });
    const run = async (version: string) => {
      const env: NodeJS.ProcessEnv = { ...process.env, HOOK: `${base}/hook-secret`, DEAD_HOOK: 'http://127.0.0.1:9/x' };
      env[inputVariable('environment')] = 'production';
      env[inputVariable('version')] = version;
      const rt = createMemoryRuntime({ env, cwd: repo.dir });
      const inputs = parseInputs(deploy.inputs, env, rt);
      const error = await deployLocally(inputs as Record<string, unknown>, rt).then(
        () => null,
        (e: Error) => e,
      );
      return { rt, error };
    };
    const ok = await run('1.0.0');
    expect(ok.error).toBeNull();
    expect(bodies.map((b) => b.event)).toEqual(['deploy-succeeded']);
    expect(bodies[0].text).toContain('Deploy to production: success');
    expect(ok.rt.text()).toMatch(/notify: slack \(DEAD_HOOK\) failed for deploy-succeeded/);
    expect(ok.rt.text()).not.toContain('hook-secret');

    const bad = await run('9.9.9');
    expect(bad.error).not.toBeNull();
    expect(bodies.map((b) => b.event)).toEqual(['deploy-succeeded', 'deploy-rolled-back']);
    repo.cleanup();
  }, 60_000);

  it('a failed run lists only the versions it moved: not a component it never started', async () => {
    const repo = createRepo();
    repo.commit('feat: app', {
      '.github/slipway.yml': [
        'components:',
        '  api: { deploy: { run: "test \\"$SLIPWAY_VERSION\\" != 2.0.0" } }',
        '  worker: { dependsOn: [api], deploy: { run: "true" } }',
        'environments:',
        '  production: {}',
        'notify:',
        '  - kind: webhook',
        '    webhook: { env: HOOK }',
        '    events: [deploy-failed, deploy-rolled-back]',
        '',
      ].join('\n'),
    });
    const run = async (version: string) => {
      const env: NodeJS.ProcessEnv = { ...process.env, HOOK: `${base}/hook` };
      env[inputVariable('environment')] = 'production';
      env[inputVariable('version')] = version;
      const rt = createMemoryRuntime({ env, cwd: repo.dir });
      return deployLocally(parseInputs(deploy.inputs, env, rt) as Record<string, unknown>, rt).catch((e: Error) => e);
    };
    await run('1.0.0');
    bodies.length = 0;
    await run('2.0.0');
    const [body] = bodies as unknown as {
      event: string;
      versions: { component: string; from: string; to: string }[];
    }[];
    expect(body.event).toBe('deploy-rolled-back');
    expect(body.versions).toEqual([{ component: 'api', from: '1.0.0', to: '2.0.0' }]);
    repo.cleanup();
  }, 60_000);

  it('a refused run lists no versions: nothing moved', async () => {
    const repo = createRepo();
    repo.commit('feat: app', {
      '.github/slipway.yml': [
        'components:',
        '  api: { deploy: { run: "true" } }',
        'environments:',
        '  staging: {}',
        '  production: { after: staging }',
        'notify:',
        '  - kind: webhook',
        '    webhook: { env: HOOK }',
        '',
      ].join('\n'),
    });
    const env: NodeJS.ProcessEnv = { ...process.env, HOOK: `${base}/hook` };
    env[inputVariable('environment')] = 'production';
    env[inputVariable('version')] = '9.9.9';
    const rt = createMemoryRuntime({ env, cwd: repo.dir });
    bodies.length = 0;
    const error = await deployLocally(parseInputs(deploy.inputs, env, rt) as Record<string, unknown>, rt).catch(
      (e: Error) => e,
    );
    expect((error as Error).message).toMatch(/staging/);
    const [body] = bodies as unknown as { event: string; versions: unknown[] }[];
    expect(body.event).toBe('deploy-failed');
    // 9.9.9 never ran anywhere: a message listing api (none) → 9.9.9 would say it moved.
    expect(body.versions).toEqual([]);
    repo.cleanup();
  }, 60_000);

  it('posts deploy-failed and sets status=failed on lock-timeout and on an unexpected error', async () => {
    const repo = createRepo();
    repo.commit('feat: app', {
      '.github/slipway.yml': [
        'components:',
        // Turns the ledger into a folder while deploying: writing the final state then fails unexpectedly (EISDIR).
        '  api: { deploy: { run: "if [ \\"$SLIPWAY_VERSION\\" = 6.6.6 ]; then rm .slipway/deployments.json && mkdir .slipway/deployments.json; fi" } }',
        'environments:',
        '  production: {}',
        'notify:',
        '  - webhook: { env: HOOK }',
        '    events: [deploy-failed]',
        '',
      ].join('\n'),
    });
    const run = async (values: Record<string, string>) => {
      const env: NodeJS.ProcessEnv = { ...process.env, HOOK: `${base}/hook` };
      for (const [k, v] of Object.entries({ environment: 'production', ...values })) env[inputVariable(k)] = v;
      const rt = createMemoryRuntime({ env, cwd: repo.dir });
      const inputs = parseInputs(deploy.inputs, env, rt);
      const error = await deployLocally(inputs as Record<string, unknown>, rt).then(
        () => null,
        (e: Error) => e,
      );
      return { rt, error };
    };
    bodies.length = 0;
    mkdirSync(path.join(repo.dir, '.slipway'));
    const at = new Date().toISOString();
    const holder = {
      id: '1',
      environment: 'production',
      task: 'deploy',
      ref: 'main',
      sha: 'abc',
      versions: { api: '0.9.0' },
      state: 'in_progress',
      creator: 'alice',
      createdAt: at,
      updatedAt: at,
    };
    writeFileSync(
      path.join(repo.dir, '.slipway/deployments.json'),
      JSON.stringify({ version: 1, nextId: 2, deployments: [holder] }),
    );
    const locked = await run({ version: '1.0.0', 'lock-timeout': '0' });
    expect(locked.error?.message).toMatch(/^lock-timeout: deployment #1 by alice/);
    expect(locked.rt.outputs.status).toBe('failed');
    expect(bodies).toEqual([
      expect.objectContaining({
        event: 'deploy-failed',
        text: expect.stringContaining('Deploy to production: failed'),
      }),
    ]);
    expect(JSON.stringify(bodies[0])).toContain('lock-timeout: deployment #1 by alice');

    rmSync(path.join(repo.dir, '.slipway'), { recursive: true });
    const broken = await run({ version: '6.6.6' });
    expect(broken.error?.message).toMatch(/EISDIR/);
    expect(broken.rt.outputs.status).toBe('failed');
    expect(bodies.map((b) => b.event)).toEqual(['deploy-failed', 'deploy-failed']);
    expect(JSON.stringify(bodies[1])).toMatch(/Deploy to production: failed.*EISDIR/);
    repo.cleanup();
  }, 60_000);
});
