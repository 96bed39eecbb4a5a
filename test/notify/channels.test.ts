import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseConfig, type NotifyConfig } from '../../src/core/config.js';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { notify, type Notification } from '../../src/notify/notify.js';
import { startReceivers, type Receivers } from '../helpers/notify-receivers.js';
import { startSmtp } from '../helpers/smtp.js';

let r: Receivers;
beforeAll(async () => {
  r = await startReceivers();
});
afterAll(() => r.stop());

const channels: NotifyConfig[] = (['slack', 'discord', 'teams', 'webhook'] as const).map((kind) => ({
  kind,
  webhook: { env: `${kind.toUpperCase()}_URL` },
  events: ['deploy-rolled-back', 'deploy-failed'],
}));
const env = () => ({
  SLACK_URL: r.url('slack', 'T1/B1/slack-secret'),
  DISCORD_URL: r.url('discord', '123/discord-secret'),
  TEAMS_URL: r.url('teams', 'teams-secret'),
  WEBHOOK_URL: r.url('webhook', 'generic-secret'),
  GITHUB_ACTOR: 'alice',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'acme/shop',
  GITHUB_RUN_ID: '42',
});

const rolledBack: Notification = {
  event: 'deploy-rolled-back',
  title: 'Deploy to production: rolled-back',
  text: 'bot: health check failed (GET /health answered 500)',
  environment: 'production',
  status: 'rolled-back',
  environmentUrl: 'https://shop.example.com',
  versions: [
    { component: 'api', from: '1.0.0', to: '1.1.0' },
    { component: 'bot', from: '', to: '1.1.0' },
  ],
  failedComponent: 'bot',
  rollbackHeld: true,
};

describe('notification channels', () => {
  it('renders one message per channel, each accepted by a stand-in that enforces that service’s rules', async () => {
    r.accepted.length = 0;
    const rt = createMemoryRuntime({ env: env() });
    expect(await notify(channels, rolledBack, rt, { baseDelayMs: 5 })).toBe(4);
    expect(r.rejected).toEqual([]);
    expect(r.accepted.map((a) => a.service).sort()).toEqual(['discord', 'slack', 'teams', 'webhook']);
    const runUrl = 'https://github.com/acme/shop/actions/runs/42';
    for (const a of r.accepted) {
      const text = JSON.stringify(a.body);
      // What happened, where, versions before → after, who, the links, which component failed, the rollback.
      for (const needle of ['rolled-back', 'production', 'alice', runUrl, 'bot']) expect(text).toContain(needle);
      // The generic body carries versions as data (checked below); the others as "before → after".
      if (a.service !== 'webhook') for (const move of ['1.0.0 → 1.1.0', '(none) → 1.1.0']) expect(text).toContain(move);
      expect(text).toContain('https://shop.example.com');
      expect(text).toMatch(/held|"rollbackHeld":true/);
    }
    const generic = r.accepted.find((a) => a.service === 'webhook')!.body;
    expect(generic).toMatchObject({
      schema: 'slipway.notification/v1',
      event: 'deploy-rolled-back',
      environment: 'production',
      versions: [
        { component: 'api', from: '1.0.0', to: '1.1.0' },
        { component: 'bot', from: null, to: '1.1.0' },
      ],
      actor: 'alice',
      failedComponent: 'bot',
      rollbackHeld: true,
      links: { run: runUrl, environment: 'https://shop.example.com' },
    });
    expect(rt.text()).not.toMatch(/secret/);
  });

  it('keeps every body within its service’s limits for a huge message', async () => {
    r.accepted.length = 0;
    const rt = createMemoryRuntime({ env: env() });
    const huge: Notification = {
      ...rolledBack,
      title: `Deploy to production: failed ${'x'.repeat(400)}`,
      text: 'cause '.repeat(5000),
      versions: Array.from({ length: 60 }, (_, i) => ({ component: `worker-${i}`, from: '1.0.0', to: '1.1.0' })),
    };
    expect(await notify(channels, { ...huge, event: 'deploy-failed' }, rt, { baseDelayMs: 5 })).toBe(4);
    expect(r.rejected).toEqual([]);
  });

  it('stand-ins reject what the services reject (the limits above are really checked)', async () => {
    r.rejected.length = 0;
    const post = (service: 'slack' | 'discord' | 'teams', body: unknown) =>
      fetch(r.url(service), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect(
      (await post('slack', { blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }] })).status,
    ).toBe(400);
    expect((await post('discord', { text: 'Slack-shaped body' })).status).toBe(400);
    expect((await post('teams', { text: 'a legacy body' })).status).toBe(400);
    expect(r.rejected.map((x) => x.service)).toEqual(['slack', 'discord', 'teams']);
  });

  it('a channel that never answers is a warning naming the channel, within its deadline, and the others still deliver', async () => {
    r.accepted.length = 0;
    const rt = createMemoryRuntime({ env: { ...env(), HANG_URL: r.url('hang', 'hang-secret') } });
    const hanging: NotifyConfig = { kind: 'discord', webhook: { env: 'HANG_URL' }, events: ['deploy-failed'] };
    const started = Date.now();
    const n = await notify([hanging, channels[0]], { ...rolledBack, event: 'deploy-failed' }, rt, {
      timeoutMs: 200,
      attempts: 2,
      baseDelayMs: 5,
      deadlineMs: 1_000,
    });
    expect(n).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000); // bounded by the deadline, not by the server
    const warnings = rt.records.filter((x) => x.level === 'warning').map((x) => x.message);
    expect(warnings).toEqual(['notify: discord (HANG_URL) failed for deploy-failed: no answer within 200 ms']);
    expect(rt.text()).not.toContain('hang-secret');
  });

  it('sends email over SMTP with authentication; the message arrives with subject, recipients and body', async () => {
    const smtp = await startSmtp({ auth: { user: 'deploys', password: 'p@ss/word' } });
    try {
      const rt = createMemoryRuntime({
        env: { ...env(), SMTP_URL: `smtp://deploys:${encodeURIComponent('p@ss/word')}@127.0.0.1:${smtp.port}` },
      });
      const email: NotifyConfig = {
        kind: 'email',
        smtp: { url: { env: 'SMTP_URL' } },
        from: 'slipway@example.com',
        to: ['ops@example.com', 'lead@example.com'],
        events: ['deploy-rolled-back'],
      };
      expect(await notify([email], rolledBack, rt)).toBe(1);
      expect(smtp.received).toHaveLength(1);
      const { mail, user, rcptTo } = smtp.received[0];
      expect(user).toBe('deploys');
      expect(rcptTo).toEqual(['ops@example.com', 'lead@example.com']);
      expect(mail.subject).toBe('[Slipway] Deploy to production: rolled-back');
      expect(mail.from?.text).toBe('slipway@example.com');
      expect(mail.text).toContain('api: 1.0.0 → 1.1.0');
      expect(mail.text).toContain('Failed component: bot');
      expect(mail.text).toContain('Started by: alice');
      expect(mail.text).toContain('Run: https://github.com/acme/shop/actions/runs/42');
      expect(rt.text()).toContain('sent deploy-rolled-back to email (SMTP_URL)');
      expect(rt.text()).not.toMatch(/p@ss|p%40ss/);

      const wrong = createMemoryRuntime({ env: { SMTP_URL: `smtp://deploys:nope-secret@127.0.0.1:${smtp.port}` } });
      expect(await notify([email], rolledBack, wrong, { baseDelayMs: 5 })).toBe(0);
      expect(wrong.text()).toMatch(/notify: email \(SMTP_URL\) failed for deploy-rolled-back: SMTP 535/);
      expect(wrong.text()).not.toContain('nope-secret');
    } finally {
      await smtp.stop();
    }
  });
});

describe('the notify policy', () => {
  const load = (yaml: string) => parseConfig(`components:\n  api: {}\nnotify:\n${yaml}`, '.github/slipway.yml');

  it('reads every kind; an entry without kind is Slack; deploy-started is off by default', () => {
    const c = load(
      [
        '  - webhook: { env: SLACK }',
        '  - { kind: discord, webhook: { env: DISCORD }, events: [deploy-started, migration-failed] }',
        '  - { kind: email, smtp: { url: { env: SMTP_URL } }, from: a@example.com, to: b@example.com }',
        '',
      ].join('\n'),
    );
    expect(c.notify[0]).toMatchObject({ kind: 'slack', webhook: { env: 'SLACK' } });
    expect(c.notify[0].events).toContain('migration-failed');
    expect(c.notify[0].events).not.toContain('deploy-started');
    expect(c.notify[1].events).toEqual(['deploy-started', 'migration-failed']);
    expect(c.notify[2]).toMatchObject({ kind: 'email', to: ['b@example.com'] });
  });

  it('refuses an unknown kind and a bad address, naming the line', () => {
    expect(() => load('  - { kind: pager, webhook: { env: X } }\n')).toThrow(
      /\.github\/slipway\.yml:4:.*kind.*slack, discord, teams, webhook, email/,
    );
    expect(() => load('  - { kind: email, smtp: { url: { env: S } }, from: nobody, to: b@example.com }\n')).toThrow(
      /\.github\/slipway\.yml:4:.*from.*expected an email address/,
    );
  });
});
