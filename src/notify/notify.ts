/**
 * Webhook notifications (`notify:` in the policy file): Slack-compatible JSON posted to URLs
 * held in environment variables. A failing webhook is a warning, never a failed deploy, and
 * its URL is a secret: it is masked and never printed.
 */
import type { NotifyConfig } from '../core/config.js';
import { retry } from '../core/retry.js';
import type { Runtime } from '../core/runtime.js';

/** The events a webhook can subscribe to. */
export type NotifyEvent = 'deploy-succeeded' | 'deploy-failed' | 'deploy-rolled-back' | 'release-published';

/** What happened, for the message. */
export interface Notification {
  event: NotifyEvent;
  /** One line, e.g. "backend 1.4.0 deployed to production". */
  title: string;
  /** Markdown-ish details (Slack mrkdwn). */
  text?: string;
  /** A link to the run, the release or the environment. */
  url?: string;
  fields?: Record<string, string>;
}

/** Delivery options; tests shorten the timeouts. */
export interface NotifyOptions {
  timeoutMs?: number;
  attempts?: number;
  baseDelayMs?: number;
}

const EMOJI: Record<NotifyEvent, string> = {
  'deploy-succeeded': ':white_check_mark:',
  'deploy-failed': ':x:',
  'deploy-rolled-back': ':leftwards_arrow_with_hook:',
  'release-published': ':rocket:',
};

/** The Slack-compatible body: `text` for any receiver, `blocks` for Slack. */
export function slackPayload(n: Notification): Record<string, unknown> {
  const summary = `${EMOJI[n.event]} ${n.title}`;
  const blocks: unknown[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${n.title}*${n.text ? `\n${n.text}` : ''}` } },
  ];
  const fields = Object.entries(n.fields ?? {});
  if (fields.length)
    blocks.push({ type: 'section', fields: fields.map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${v}` })) });
  if (n.url) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `<${n.url}|Details>` }] });
  return { text: summary, event: n.event, blocks };
}

class WebhookError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

async function post(url: string, body: unknown, timeoutMs: number): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why =
      e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new WebhookError(why, true);
  }
  await res.arrayBuffer().catch(() => undefined);
  if (res.ok) return;
  throw new WebhookError(`HTTP ${res.status}`, res.status >= 500 || res.status === 429);
}

/**
 * Send `n` to every webhook subscribed to its event. Never throws: a failure is a warning
 * naming the variable that holds the URL. Returns how many webhooks accepted it.
 */
export async function notify(
  webhooks: NotifyConfig[],
  n: Notification,
  rt: Runtime,
  options: NotifyOptions = {},
): Promise<number> {
  let delivered = 0;
  for (const hook of webhooks.filter((w) => w.events.includes(n.event))) {
    const name = hook.webhook.env;
    const url = rt.env[name];
    if (!url) {
      rt.log.warning(`notify: ${name} is not set; the ${n.event} notification was not sent`);
      continue;
    }
    rt.mask(url);
    try {
      await retry(() => post(url, slackPayload(n), options.timeoutMs ?? 10_000), {
        attempts: options.attempts ?? 3,
        baseDelayMs: options.baseDelayMs ?? 1_000,
        retryable: (e) => e instanceof WebhookError && e.retryable,
      });
      delivered++;
      rt.log.info(`notify: sent ${n.event} to the webhook in ${name}`);
    } catch (err) {
      rt.log.warning(`notify: the webhook in ${name} failed for ${n.event}: ${rt.redact((err as Error).message)}`);
    }
  }
  return delivered;
}
