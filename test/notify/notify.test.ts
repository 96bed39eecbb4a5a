import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { NotifyConfig } from '../../src/core/config.js';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { notify } from '../../src/notify/notify.js';
import { freePort } from '../helpers/postgres.js';

interface Received {
  path: string;
  body: Record<string, unknown>;
  contentType?: string;
}

let server: Server;
let base = '';
const received: Received[] = [];
let failuresLeft = 0;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => resolve(data));
  });
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = await readBody(req);
    if (req.url?.startsWith('/broken')) {
      res.writeHead(404).end('no such hook');
      return;
    }
    if (req.url?.startsWith('/flaky') && failuresLeft > 0) {
      failuresLeft--;
      res.writeHead(503).end();
      return;
    }
    received.push({ path: req.url ?? '', body: JSON.parse(body), contentType: req.headers['content-type'] });
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const hooks: NotifyConfig[] = [
  {
    kind: 'slack',
    webhook: { env: 'SLACK_DEPLOYS' },
    events: ['deploy-succeeded', 'deploy-failed', 'deploy-rolled-back'],
  },
  { kind: 'slack', webhook: { env: 'SLACK_RELEASES' }, events: ['release-published'] },
];

describe('notify', () => {
  it('posts Slack-compatible JSON only to the webhooks subscribed to the event', async () => {
    received.length = 0;
    const rt = createMemoryRuntime({
      env: { SLACK_DEPLOYS: `${base}/deploys/T000/B000/secret-token`, SLACK_RELEASES: `${base}/releases` },
    });
    const n = await notify(
      hooks,
      { event: 'deploy-rolled-back', title: 'bot rolled back to 1.2.0 on production', fields: { version: '1.3.0' } },
      rt,
    );
    expect(n).toBe(1);
    expect(received).toHaveLength(1);
    expect(received[0].path).toBe('/deploys/T000/B000/secret-token');
    expect(received[0].contentType).toBe('application/json');
    expect(received[0].body.text).toBe(':leftwards_arrow_with_hook: bot rolled back to 1.2.0 on production');
    expect(received[0].body.event).toBe('deploy-rolled-back');
    expect(JSON.stringify(received[0].body.blocks)).toContain('*version*\\n1.3.0');
    expect(rt.text()).toContain('sent deploy-rolled-back to slack (SLACK_DEPLOYS)');
    expect(rt.text()).not.toContain('secret-token');
  });

  it('retries a 5xx and then delivers', async () => {
    received.length = 0;
    failuresLeft = 2;
    const rt = createMemoryRuntime({ env: { SLACK_RELEASES: `${base}/flaky` } });
    const n = await notify(hooks, { event: 'release-published', title: 'v1.4.0' }, rt, { baseDelayMs: 5 });
    expect(n).toBe(1);
    expect(failuresLeft).toBe(0);
    expect(received).toHaveLength(1);
  });

  it('turns a failing webhook into a warning that never shows the URL', async () => {
    const rt = createMemoryRuntime({ env: { SLACK_DEPLOYS: `${base}/broken/hook-secret-abc` } });
    const n = await notify(hooks, { event: 'deploy-failed', title: 'deploy failed' }, rt, { baseDelayMs: 5 });
    expect(n).toBe(0);
    const warnings = rt.records.filter((r) => r.level === 'warning').map((r) => r.message);
    expect(warnings).toEqual(['notify: slack (SLACK_DEPLOYS) failed for deploy-failed: HTTP 404: no such hook']);
    expect(rt.text()).not.toContain('hook-secret-abc');
  });

  it('warns when the variable is unset, and when nothing listens', async () => {
    const rt = createMemoryRuntime({ env: {} });
    expect(await notify(hooks, { event: 'deploy-succeeded', title: 'ok' }, rt)).toBe(0);
    expect(rt.text()).toContain('SLACK_DEPLOYS is not set');
    const port = await freePort();
    const refused = createMemoryRuntime({ env: { SLACK_DEPLOYS: `http://127.0.0.1:${port}/x` } });
    expect(
      await notify(hooks, { event: 'deploy-succeeded', title: 'ok' }, refused, { attempts: 2, baseDelayMs: 5 }),
    ).toBe(0);
    expect(refused.text()).toContain(
      `slack (SLACK_DEPLOYS) failed for deploy-succeeded: connection refused (127.0.0.1:${port})`,
    );
    // A value that is no URL is said once, naming the variable, never showing the value.
    const notUrl = createMemoryRuntime({ env: { SLACK_DEPLOYS: 'hooks.slack.com/services/T0/B0/s3cr3t-value' } });
    expect(
      await notify(hooks, { event: 'deploy-succeeded', title: 'ok' }, notUrl, { attempts: 3, baseDelayMs: 5 }),
    ).toBe(0);
    expect(notUrl.text()).toContain(
      'notify: SLACK_DEPLOYS does not hold an http(s) URL (expected the webhook URL); the deploy-succeeded notification to slack (SLACK_DEPLOYS) was not sent',
    );
    expect(notUrl.text()).not.toContain('s3cr3t');
    expect(notUrl.text()).not.toContain('ERR_INVALID_URL');
  });
});
