/**
 * Microsoft Teams: an Adaptive Card in a `message`, the body that Teams' incoming webhooks
 * and Workflows webhooks both accept (a card of at most 28 KB).
 */
import { cut, facts, links, type Notification } from '../message.js';

const STYLE: Record<Notification['event'], string> = {
  'deploy-started': 'accent',
  'deploy-succeeded': 'good',
  'deploy-failed': 'attention',
  'deploy-rolled-back': 'warning',
  'migration-failed': 'attention',
  'release-published': 'accent',
};

/** Teams' body for `n`. */
export function teamsPayload(n: Notification): Record<string, unknown> {
  const body: unknown[] = [
    { type: 'TextBlock', text: cut(n.title, 500), weight: 'Bolder', size: 'Medium', wrap: true, color: STYLE[n.event] },
  ];
  if (n.text) body.push({ type: 'TextBlock', text: cut(n.text, 20_000), wrap: true });
  const f = facts(n);
  if (f.length)
    body.push({ type: 'FactSet', facts: f.map((x) => ({ title: cut(x.label, 200), value: cut(x.value, 1000) })) });
  const card: Record<string, unknown> = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
  };
  const l = links(n);
  if (l.length) card.actions = l.map((x) => ({ type: 'Action.OpenUrl', title: x.label, url: x.url }));
  return {
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }],
  };
}
