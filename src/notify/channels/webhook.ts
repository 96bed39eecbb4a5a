/**
 * The generic webhook body (docs/policy.md, "notify"): a stable JSON document for a
 * receiver of the user's own, versioned by `schema`.
 */
import type { Notification } from '../message.js';

/** The generic body for `n`; keys are fixed, absent facts are null. */
export function webhookPayload(n: Notification, now: Date = new Date()): Record<string, unknown> {
  return {
    schema: 'slipway.notification/v1',
    event: n.event,
    title: n.title,
    text: n.text ?? null,
    status: n.status ?? null,
    environment: n.environment ?? null,
    versions: (n.versions ?? []).map((v) => ({ component: v.component, from: v.from || null, to: v.to })),
    actor: n.actor ?? null,
    failedComponent: n.failedComponent ?? null,
    rollbackHeld: n.rollbackHeld ?? null,
    links: { run: n.runUrl ?? null, environment: n.environmentUrl ?? null, details: n.url ?? null },
    fields: n.fields ?? {},
    timestamp: now.toISOString(),
  };
}
