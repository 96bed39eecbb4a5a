/**
 * How delivery fails, against real local servers: a webhook URL with credentials arrives as
 * Basic authorization; a refused connection, an unknown host, a self-signed certificate, a
 * port fetch blocks, and an SMTP server that is not there each read as one line a user can
 * act on, and only the transient ones are tried again.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { NotifyConfig } from '../../src/core/config.js';
import { createMemoryRuntime, type MemoryRuntime } from '../../src/core/memory-runtime.js';
import { notify, type Notification, type NotifyOptions } from '../../src/notify/notify.js';
import { startReceivers, type Receivers } from '../helpers/notify-receivers.js';
import { freePort } from '../helpers/postgres.js';
import { startSmtp, type SmtpServer } from '../helpers/smtp.js';
import { selfSignedCertificate } from '../helpers/tls.js';

const webhook: NotifyConfig[] = [{ kind: 'webhook', webhook: { env: 'OPS_WEBHOOK_URL' }, events: ['deploy-failed'] }];
const email: NotifyConfig[] = [
  {
    kind: 'email',
    smtp: { url: { env: 'SMTP_URL' } },
    from: 'slipway@example.com',
    to: ['ops@example.com'],
    events: ['deploy-failed'],
  },
];
const failed: Notification = {
  event: 'deploy-failed',
  title: 'Deploy to production: failed',
  environment: 'production',
};

/** Quick retries, for the messages. */
const quick: NotifyOptions = { attempts: 2, baseDelayMs: 5, timeoutMs: 5_000 };
// A retried failure waits a minute before its next attempt, so it ends at the 3 s deadline
// instead of with its own reason: a failure reported with its reason was not retried.
const noWaitingForRetries: NotifyOptions = { attempts: 3, baseDelayMs: 60_000, deadlineMs: 3_000, timeoutMs: 2_000 };

/** The warnings of a run. */
const warnings = (rt: MemoryRuntime) => rt.records.filter((r) => r.level === 'warning').map((r) => r.message);

/** Send `failed` to `channels` with the variables `env`; the runtime, to read its log. */
async function send(channels: NotifyConfig[], env: Record<string, string>, options: NotifyOptions) {
  const rt = createMemoryRuntime({ env });
  const sent = await notify(channels, failed, rt, options);
  return { rt, sent };
}

let selfSigned: { key: string; cert: string };
let https: HttpsServer;
let httpsPort = 0;
let httpsConnections = 0;
let receivers: Receivers;
let tlsSmtp: SmtpServer;

beforeAll(async () => {
  selfSigned = selfSignedCertificate();
  https = createHttpsServer(selfSigned, (_req, res) => res.writeHead(200).end('ok'));
  https.on('connection', () => httpsConnections++);
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
  httpsPort = (https.address() as { port: number }).port;
  receivers = await startReceivers({ basicAuth: { user: 'hookuser', password: 'hookpw777' } });
  tlsSmtp = await startSmtp({ tls: selfSigned });
});
afterAll(async () => {
  https.closeAllConnections();
  await new Promise<void>((r) => https.close(() => r()));
  await receivers.stop();
  await tlsSmtp.stop();
});

/** The receivers' webhook URL with `user:password@` in it. */
function withCredentials(user: string, password: string): string {
  const u = new URL(receivers.url('webhook', 'T1/ops-secret'));
  u.username = user;
  u.password = password;
  return u.href;
}

describe('a webhook URL with credentials', () => {
  it('is delivered with them as a Basic Authorization header, and never shows them', async () => {
    receivers.accepted.length = 0;
    receivers.rejected.length = 0;
    const { rt, sent } = await send(webhook, { OPS_WEBHOOK_URL: withCredentials('hookuser', 'hookpw777') }, quick);
    expect(warnings(rt)).toEqual([]);
    expect(sent).toBe(1);
    expect(receivers.rejected).toEqual([]);
    expect(receivers.accepted.map((a) => a.body.event)).toEqual(['deploy-failed']);
    expect(rt.text()).toContain('notify: sent deploy-failed to webhook (OPS_WEBHOOK_URL)');
    for (const secret of ['hookpw777', 'ops-secret', Buffer.from('hookuser:hookpw777').toString('base64')])
      expect(rt.text()).not.toContain(secret);
  });

  it('refused by the receiver is said once, with its answer, and not tried again', async () => {
    receivers.rejected.length = 0;
    const { rt, sent } = await send(webhook, { OPS_WEBHOOK_URL: withCredentials('hookuser', 'wrong-pw-42') }, quick);
    expect(sent).toBe(0);
    expect(warnings(rt)).toEqual([
      'notify: webhook (OPS_WEBHOOK_URL) failed for deploy-failed: HTTP 401: invalid credentials',
    ]);
    expect(receivers.rejected).toEqual([{ service: 'webhook', reason: 'authorization wrong' }]);
    expect(rt.text()).not.toContain('wrong-pw-42');
  });
});

describe('a delivery that fails', () => {
  it('names a refused connection by its address, and retries it', async () => {
    const port = await freePort();
    const { rt } = await send(webhook, { OPS_WEBHOOK_URL: `http://127.0.0.1:${port}/hook/refused-secret` }, quick);
    expect(warnings(rt)).toEqual([
      `notify: webhook (OPS_WEBHOOK_URL) failed for deploy-failed: connection refused (127.0.0.1:${port})`,
    ]);
    const retried = await send(webhook, { OPS_WEBHOOK_URL: `http://127.0.0.1:${port}/hook` }, noWaitingForRetries);
    expect(warnings(retried.rt)).toEqual([
      'notify: webhook (OPS_WEBHOOK_URL) failed for deploy-failed: no delivery within 3 s',
    ]);
  });

  it('says a host was not found, without the URL', async () => {
    const { rt } = await send(
      webhook,
      { OPS_WEBHOOK_URL: 'https://hooks.nonexistent.invalid/T0/B0/dns-secret' },
      {
        ...quick,
        attempts: 1,
      },
    );
    expect(warnings(rt)).toEqual(['notify: webhook (OPS_WEBHOOK_URL) failed for deploy-failed: host not found']);
    expect(rt.text()).not.toContain('dns-secret');
  });

  it('says a self-signed certificate is self-signed, how to trust it, and does not try again', async () => {
    httpsConnections = 0;
    const { rt } = await send(
      webhook,
      { OPS_WEBHOOK_URL: `https://127.0.0.1:${httpsPort}/hook/tls-secret` },
      noWaitingForRetries,
    );
    expect(warnings(rt)).toEqual([
      'notify: webhook (OPS_WEBHOOK_URL) failed for deploy-failed: the TLS certificate is self-signed (set NODE_EXTRA_CA_CERTS to trust it)',
    ]);
    expect(httpsConnections).toBe(1);
  });

  it('says fetch refuses a blocked port, and does not try again', async () => {
    const { rt } = await send(
      webhook,
      { OPS_WEBHOOK_URL: 'http://127.0.0.1:6000/hook/port-secret' },
      noWaitingForRetries,
    );
    expect(warnings(rt)).toEqual([
      'notify: webhook (OPS_WEBHOOK_URL) failed for deploy-failed: fetch refuses port 6000 (the Fetch standard blocks it; use another port)',
    ]);
  });

  it('names an SMTP server that refuses the connection by its address, not as ESOCKET', async () => {
    const port = await freePort();
    const { rt } = await send(email, { SMTP_URL: `smtp://deploys:mail-pw-9@127.0.0.1:${port}` }, quick);
    expect(warnings(rt)).toEqual([
      `notify: email (SMTP_URL) failed for deploy-failed: connection refused (127.0.0.1:${port})`,
    ]);
    expect(rt.text()).not.toContain('mail-pw-9');
  });

  it("says an SMTP server's self-signed certificate is self-signed, and does not try again", async () => {
    const { rt } = await send(email, { SMTP_URL: `smtp://127.0.0.1:${tlsSmtp.port}` }, noWaitingForRetries);
    expect(warnings(rt)).toEqual([
      'notify: email (SMTP_URL) failed for deploy-failed: the TLS certificate is self-signed (set NODE_EXTRA_CA_CERTS to trust it)',
    ]);
    expect(tlsSmtp.received).toEqual([]);
  });
});
