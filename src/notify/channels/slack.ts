/**
 * Slack's incoming-webhook body: `text` (the fallback every receiver shows) and Block Kit
 * `blocks`, within Slack's limits (50 blocks, 3,000 characters of section text, 10 fields
 * of 2,000 characters each).
 */
import { cut, facts, links, type Notification } from '../message.js';

const EMOJI: Record<Notification['event'], string> = {
  'deploy-started': ':hourglass_flowing_sand:',
  'deploy-succeeded': ':white_check_mark:',
  'deploy-failed': ':x:',
  'deploy-rolled-back': ':leftwards_arrow_with_hook:',
  'migration-failed': ':warning:',
  'release-published': ':rocket:',
};

/** Slack's mrkdwn needs &, < and > escaped in text that is not a link. */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The Slack-compatible body: `text` for any receiver, `blocks` for Slack. */
export function slackPayload(n: Notification): Record<string, unknown> {
  const blocks: unknown[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: cut(`*${escape(n.title)}*${n.text ? `\n${escape(n.text)}` : ''}`, 3000) },
    },
  ];
  const f = facts(n);
  // A section holds at most 10 fields; more facts go into further sections.
  for (let i = 0; i < f.length && blocks.length < 45; i += 10)
    blocks.push({
      type: 'section',
      fields: f
        .slice(i, i + 10)
        .map((x) => ({ type: 'mrkdwn', text: cut(`*${escape(x.label)}*\n${escape(x.value)}`, 2000) })),
    });
  const l = links(n);
  if (l.length)
    blocks.push({
      type: 'context',
      elements: l.slice(0, 10).map((x) => ({ type: 'mrkdwn', text: `<${x.url}|${escape(x.label)}>` })),
    });
  return { text: cut(`${EMOJI[n.event]} ${n.title}`, 3000), event: n.event, blocks };
}
