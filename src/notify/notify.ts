/**
 * Notifications (`notify:` in the policy file): Slack, Discord, Teams, a generic JSON
 * webhook, or email. Each channel gets the same message rendered its own way. Delivery runs
 * on every channel at once, each with a timeout per attempt and bounded retries; a channel
 * that fails is a warning naming it, never a failed run, and its URL is a secret: masked,
 * never printed.
 */
import type { EmailNotifyConfig, NotifyConfig, WebhookNotifyConfig } from '../core/config.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { retry } from '../core/retry.js';
import type { Runtime } from '../core/runtime.js';
import { discordPayload } from './channels/discord.js';
import { emailMessage } from './channels/email.js';
import { slackPayload } from './channels/slack.js';
import { teamsPayload } from './channels/teams.js';
import { webhookPayload } from './channels/webhook.js';
import { sendEmail } from './email-send.js';
import { DeliveryError, postJson } from './http-post.js';
import { withRunContext, type Notification } from './message.js';
import { splitCredentials } from '../core/url-credentials.js';

export type { Notification } from './message.js';
/** Delivery options; tests shorten the timeouts. */
export interface NotifyOptions {
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
  /** Attempts per channel (default 3). */
  attempts?: number;
  baseDelayMs?: number;
  /** The most one channel may take in all, retries included (default 30 s). */
  deadlineMs?: number;
}

const WEBHOOK_BODY: Record<WebhookNotifyConfig['kind'], (n: Notification) => unknown> = {
  slack: slackPayload,
  discord: discordPayload,
  teams: teamsPayload,
  webhook: webhookPayload,
};

/** How a channel is named in the log: its kind and the variable that holds its URL. */
function channelName(entry: NotifyConfig): string {
  return entry.kind === 'email' ? `email (${entry.smtp.url.env})` : `${entry.kind} (${entry.webhook.env})`;
}

/** The variable holding the channel's secret URL. */
function secretVariable(entry: NotifyConfig): string {
  return entry.kind === 'email' ? entry.smtp.url.env : entry.webhook.env;
}

/**
 * Mask a URL and, for one with credentials, its decoded password (it may appear decoded in an
 * error) and the Basic header a webhook sends them in.
 */
function maskUrl(url: string, rt: Runtime): void {
  rt.mask(url);
  try {
    const password = new URL(url).password;
    if (password) {
      rt.mask(password);
      rt.mask(decodeURIComponent(password));
    }
    const { authorization } = splitCredentials(url);
    if (authorization) rt.mask(authorization.slice('Basic '.length));
  } catch {
    // Not a URL: the whole value is masked already.
  }
}

/** Whether `text` is an http: or https: URL. */
function isHttpUrl(text: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(text.trim()).protocol);
  } catch {
    return false;
  }
}

/** One delivery attempt to one channel. */
function attempt(entry: NotifyConfig, url: string, n: Notification, timeoutMs: number, signal: AbortSignal) {
  if (entry.kind === 'email')
    return sendEmail(
      { smtpUrl: url, from: entry.from, to: (entry as EmailNotifyConfig).to },
      emailMessage(n),
      timeoutMs,
    );
  return postJson(url, WEBHOOK_BODY[entry.kind](n), timeoutMs, signal);
}

/** Deliver to one channel within its deadline; true when it accepted the message. */
async function deliver(entry: NotifyConfig, n: Notification, rt: Runtime, options: NotifyOptions): Promise<boolean> {
  const name = channelName(entry);
  const url = rt.env[secretVariable(entry)];
  if (!url) {
    rt.log.warning(`notify: ${secretVariable(entry)} is not set; the ${n.event} notification to ${name} was not sent`);
    return false;
  }
  maskUrl(url, rt);
  // Said before any attempt, without the value: "ERR_INVALID_URL" three times says nothing.
  if (entry.kind !== 'email' && !isHttpUrl(url)) {
    rt.log.warning(
      `notify: ${secretVariable(entry)} does not hold an http(s) URL (expected the webhook URL); the ${n.event} notification to ${name} was not sent`,
    );
    return false;
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadlineMs = options.deadlineMs ?? 30_000;
  const giveUp = new AbortController();
  let lastError: unknown;
  const sending = retry(() => attempt(entry, url, n, timeoutMs, giveUp.signal), {
    attempts: options.attempts ?? 3,
    baseDelayMs: options.baseDelayMs ?? 1_000,
    retryable: (e) => {
      lastError = e;
      return e instanceof DeliveryError && e.retryable && !giveUp.signal.aborted;
    },
    // A 429's Retry-After is honoured, up to 10 s: the deadline bounds the whole delivery anyway,
    // and ends a wait still running then, which would otherwise keep the step's process alive.
    sleep: (ms) =>
      sleep(Math.max(ms, Math.min((lastError as DeliveryError | undefined)?.retryAfterMs ?? 0, 10_000)), undefined, {
        signal: giveUp.signal,
      }),
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      giveUp.abort();
      reject(new DeliveryError(`no delivery within ${deadlineMs / 1000} s`, false));
    }, deadlineMs);
  });
  try {
    await Promise.race([sending, deadline]);
    rt.log.info(`notify: sent ${n.event} to ${name}`);
    return true;
  } catch (err) {
    rt.log.warning(`notify: ${name} failed for ${n.event}: ${rt.redact((err as Error).message)}`);
    return false;
  } finally {
    clearTimeout(timer);
    giveUp.abort();
    sending.catch(() => undefined);
  }
}

/** `value` with `redact` applied to every string in it. */
function redactDeep<T>(value: T, redact: (s: string) => string): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, redact);
    return out as T;
  }
  return value;
}

/**
 * Send `n` to every channel subscribed to its event, all at once. Never throws: a failure is
 * a warning naming the channel. Returns how many channels accepted it.
 */
export async function notify(
  channels: NotifyConfig[],
  n: Notification,
  rt: Runtime,
  options: NotifyOptions = {},
): Promise<number> {
  // Every secret masked so far (the policy's, at start) becomes *** in whatever the message says.
  const message = redactDeep(withRunContext(n, rt.env), rt.redact);
  const subscribed = channels.filter((c) => c.events.includes(n.event));
  const results = await Promise.all(subscribed.map((c) => deliver(c, message, rt, options)));
  return results.filter(Boolean).length;
}
