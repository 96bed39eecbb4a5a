import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
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
    expect(ok.rt.text()).toMatch(/notify: the webhook in DEAD_HOOK failed for deploy-succeeded/);
    expect(ok.rt.text()).not.toContain('hook-secret');

    const bad = await run('9.9.9');
    expect(bad.error).not.toBeNull();
    expect(bodies.map((b) => b.event)).toEqual(['deploy-succeeded', 'deploy-rolled-back']);
    repo.cleanup();
  }, 60_000);
});
