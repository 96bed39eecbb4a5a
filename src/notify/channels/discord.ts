/**
 * Discord's webhook body: `content` and one embed, within Discord's limits (content 2,000
 * characters; embed title 256, description 4,096, 25 fields of 256/1,024, and 6,000
 * characters over the whole embed). Mentions are disabled: a version or a commit message
 * must never ping a channel.
 */
import { cut, facts, links, type Notification } from '../message.js';

const COLOR: Record<Notification['event'], number> = {
  'deploy-started': 0x3b82f6,
  'deploy-succeeded': 0x22c55e,
  'deploy-failed': 0xef4444,
  'deploy-rolled-back': 0xf59e0b,
  'migration-failed': 0xef4444,
  'release-published': 0x8b5cf6,
};

/** The Discord body for `n`. */
export function discordPayload(n: Notification): Record<string, unknown> {
  const title = cut(n.title, 256);
  const fields = facts(n)
    .slice(0, 25)
    .map((x) => ({ name: cut(x.label, 256), value: cut(x.value || '—', 1024), inline: true }));
  const l = links(n);
  let description = [n.text ?? '', l.map((x) => `[${x.label}](${x.url})`).join(' · ')].filter(Boolean).join('\n\n');
  // The embed's total (title, description, field names and values) stays under 6,000.
  const used = title.length + fields.reduce((sum, f) => sum + f.name.length + f.value.length, 0);
  description = cut(description, Math.max(0, Math.min(4096, 5900 - used)));
  const embed: Record<string, unknown> = { title, color: COLOR[n.event], fields };
  if (description) embed.description = description;
  const url = n.runUrl ?? n.url;
  if (url) embed.url = url;
  return { content: cut(n.title, 2000), embeds: [embed], allowed_mentions: { parse: [] } };
}
