/**
 * A deploy that rolls back, run as a runner runs the bundled action: one message reaches each
 * configured channel (stand-ins that enforce Slack's, Discord's, Teams' and our generic
 * body's rules) and one email arrives at a real SMTP server that requires STARTTLS, trusted
 * through NODE_EXTRA_CA_CERTS as a runner with a private CA would.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { startReceivers, type Receivers } from '../helpers/notify-receivers.js';
import { runBundledAction } from '../helpers/run-action.js';
import { startSmtp, type SmtpServer } from '../helpers/smtp.js';
import { createProduct, logged, type Product } from '../deploy/fixture.js';

let p: Product;
let r: Receivers;
let smtp: SmtpServer;
let certs: string;

/** A CA and a certificate for 127.0.0.1 signed by it. */
function makeCertificates(dir: string): { key: Buffer; cert: Buffer; ca: string } {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Slipway Test CA');
  openssl('req', '-new', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(path.join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'san.cnf',
  );
  return {
    key: readFileSync(path.join(dir, 'server.key')),
    cert: readFileSync(path.join(dir, 'server.crt')),
    ca: path.join(dir, 'ca.crt'),
  };
}

let ca = '';
beforeAll(async () => {
  certs = mkdtempSync(path.join(tmpdir(), 'slipway-smtp-'));
  const tls = makeCertificates(certs);
  ca = tls.ca;
  smtp = await startSmtp({ auth: { user: 'deploys', password: 'mail-secret' }, tls });
  r = await startReceivers();
  p = await createProduct();
  const channels = ['slack', 'discord', 'teams', 'webhook'].map((kind) => ({
    kind,
    webhook: { env: `${kind.toUpperCase()}_URL` },
  }));
  p.writeConfig(
    stringify({
      components: {
        api: { deploy: { run: logged() }, health: [{ http: '/health/api' }] },
        bot: { dependsOn: ['api'], deploy: { run: logged() }, health: [{ http: '/health/bot' }] },
      },
      environments: { production: { url: p.url } },
      notify: [
        ...channels,
        { kind: 'email', smtp: { url: { env: 'SMTP_URL' } }, from: 'slipway@example.com', to: ['ops@example.com'] },
      ],
    }),
  );
});
afterAll(async () => {
  await p.close();
  await r.stop();
  await smtp.stop();
  rmSync(certs, { recursive: true, force: true });
});

test('a rollback sends one message to each channel and one email over STARTTLS, and never shows a URL', async () => {
  const env = {
    DEPLOY_LOG: `${p.dir}/deploy.log`,
    NODE_EXTRA_CA_CERTS: ca,
    SLACK_URL: r.url('slack', 'T1/B1/slack-secret'),
    DISCORD_URL: r.url('discord', '1/discord-secret'),
    TEAMS_URL: r.url('teams', 'teams-secret'),
    WEBHOOK_URL: r.url('webhook', 'generic-secret'),
    SMTP_URL: `smtp://deploys:mail-secret@127.0.0.1:${smtp.port}`,
    GITHUB_ACTOR: 'alice',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_RUN_ID: '7',
  };
  const ok = await runBundledAction('deploy', {
    cwd: p.dir,
    env,
    inputs: { environment: 'production', version: '1.0.0' },
  });
  expect(ok.code).toBe(0);
  r.accepted.length = 0;
  smtp.received.length = 0;

  p.bad.set('bot', new Set(['1.1.0']));
  const bad = await runBundledAction('deploy', {
    cwd: p.dir,
    env,
    inputs: { environment: 'production', version: '1.1.0', timeout: '1' },
  });
  expect(bad.code).toBe(1);
  expect(bad.outputs.status).toBe('rolled-back');
  expect(r.rejected).toEqual([]);
  expect(r.accepted.map((a) => a.service).sort()).toEqual(['discord', 'slack', 'teams', 'webhook']);
  for (const a of r.accepted) expect(a.body).toBeTruthy();
  const generic = r.accepted.find((a) => a.service === 'webhook')!.body;
  expect(generic).toMatchObject({
    event: 'deploy-rolled-back',
    status: 'rolled-back',
    environment: 'production',
    failedComponent: 'bot',
    rollbackHeld: true,
    actor: 'alice',
    versions: [
      { component: 'api', from: '1.0.0', to: '1.1.0' },
      { component: 'bot', from: '1.0.0', to: '1.1.0' },
    ],
    links: { run: 'https://github.com/acme/shop/actions/runs/7' },
  });
  expect(smtp.received).toHaveLength(1);
  const mail = smtp.received[0];
  expect(mail.secure).toBe(true); // the server refuses mail before STARTTLS
  expect(mail.rcptTo).toEqual(['ops@example.com']);
  expect(mail.mail.subject).toBe('[Slipway] Deploy to production: rolled-back');
  expect(mail.mail.text).toContain('Failed component: bot');
  expect(mail.mail.text).toContain('Rollback: held');
  for (const secret of ['slack-secret', 'discord-secret', 'teams-secret', 'generic-secret', 'mail-secret'])
    // ::add-mask:: lines are how a runner learns what to hide; it never prints them.
    expect(bad.stdout.replace(/^::add-mask::.*$/gm, '') + bad.stderr + bad.summary).not.toContain(secret);
}, 90_000);
