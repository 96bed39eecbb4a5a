/**
 * Stand-ins for the services notifications go to, on 127.0.0.1, each enforcing the payload
 * rules its documentation states, and answering as the service does (Slack 200 "ok" or 400
 * "invalid_blocks"; Discord 204 or 400 with the field at fault; Teams 202; a generic 200).
 *
 * - Slack (api.slack.com/reference/block-kit): `text` or `blocks`; at most 50 blocks; a
 *   section's text at most 3,000 characters, at most 10 fields of 2,000; text objects are
 *   `mrkdwn` or `plain_text`; context at most 10 elements.
 * - Discord (discord.com/developers/docs/resources/webhook, .../message#embed-limits):
 *   `content` or `embeds`; content ≤ 2,000; ≤ 10 embeds; title ≤ 256, description ≤ 4,096,
 *   ≤ 25 fields, field name ≤ 256 and value ≤ 1,024, both non-empty; ≤ 6,000 characters over
 *   an embed; color an integer 0..0xFFFFFF.
 * - Teams (learn.microsoft.com, incoming webhooks / Workflows): `type: message`, attachments
 *   of `application/vnd.microsoft.card.adaptive` holding an `AdaptiveCard` with `version` and
 *   `body`; the request at most 28 KB.
 * - Generic (docs/policy.md): `schema: slipway.notification/v1` with its fixed keys.
 * - With `basicAuth`, every service answers 401 (as a reverse proxy in front of a receiver
 *   does) unless the request carries that user and password as a Basic Authorization header.
 *
 *   const r = await startReceivers();   r.url('slack') …   r.accepted / r.rejected   await r.stop();
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** The services a receiver stands in for. */
type Service = 'slack' | 'discord' | 'teams' | 'webhook' | 'hang';

/** A message a receiver accepted. */
interface Accepted {
  service: Service;
  body: Record<string, unknown>;
}

/** The running stand-ins. */
export interface Receivers {
  url(service: Service, secret?: string): string;
  accepted: Accepted[];
  /** Service and reason of each rejected request. */
  rejected: { service: Service; reason: string }[];
  stop(): Promise<void>;
}

type Json = Record<string, unknown>;
const len = (s: unknown) => (typeof s === 'string' ? [...s].length : 0);

function slackProblems(b: Json): string[] {
  const p: string[] = [];
  if (typeof b.text !== 'string' && !Array.isArray(b.blocks)) p.push('no text and no blocks');
  const blocks = (b.blocks ?? []) as Json[];
  if (!Array.isArray(blocks)) return ['blocks is not an array'];
  if (blocks.length > 50) p.push('more than 50 blocks');
  const textObj = (t: unknown, max: number, where: string) => {
    const o = t as Json;
    if (!o || (o.type !== 'mrkdwn' && o.type !== 'plain_text')) p.push(`${where}: not a text object`);
    else if (len(o.text) === 0 || len(o.text) > max) p.push(`${where}: text length ${len(o.text)} (1..${max})`);
  };
  blocks.forEach((bl, i) => {
    if (bl.type === 'section') {
      if (!bl.text && !bl.fields) p.push(`blocks[${i}]: section without text or fields`);
      if (bl.text) textObj(bl.text, 3000, `blocks[${i}].text`);
      const fields = (bl.fields ?? []) as unknown[];
      if (fields.length > 10) p.push(`blocks[${i}]: more than 10 fields`);
      fields.forEach((f, j) => textObj(f, 2000, `blocks[${i}].fields[${j}]`));
    } else if (bl.type === 'context') {
      const els = (bl.elements ?? []) as unknown[];
      if (els.length < 1 || els.length > 10) p.push(`blocks[${i}]: context with ${els.length} elements`);
      els.forEach((e, j) => textObj(e, 3000, `blocks[${i}].elements[${j}]`));
    } else p.push(`blocks[${i}]: unexpected block type ${String(bl.type)}`);
  });
  return p;
}

function discordProblems(b: Json): string[] {
  const p: string[] = [];
  const embeds = (b.embeds ?? []) as Json[];
  if (!len(b.content) && embeds.length === 0) p.push('Cannot send an empty message');
  if (len(b.content) > 2000) p.push('content: Must be 2000 or fewer in length.');
  if (embeds.length > 10) p.push('embeds: Must be 10 or fewer in length.');
  embeds.forEach((e, i) => {
    if (len(e.title) > 256) p.push(`embeds.${i}.title: Must be 256 or fewer in length.`);
    if (len(e.description) > 4096) p.push(`embeds.${i}.description: Must be 4096 or fewer in length.`);
    const fields = (e.fields ?? []) as Json[];
    if (fields.length > 25) p.push(`embeds.${i}.fields: Must be 25 or fewer in length.`);
    let total = len(e.title) + len(e.description);
    fields.forEach((f, j) => {
      if (!len(f.name) || len(f.name) > 256) p.push(`embeds.${i}.fields.${j}.name: length ${len(f.name)}`);
      if (!len(f.value) || len(f.value) > 1024) p.push(`embeds.${i}.fields.${j}.value: length ${len(f.value)}`);
      total += len(f.name) + len(f.value);
    });
    if (total > 6000) p.push(`embeds.${i}: Embed size exceeds maximum size of 6000`);
    if (
      e.color !== undefined &&
      (!Number.isInteger(e.color) || (e.color as number) < 0 || (e.color as number) > 0xffffff)
    )
      p.push(`embeds.${i}.color: not an integer colour`);
  });
  return p;
}

function teamsProblems(b: Json, size: number): string[] {
  const p: string[] = [];
  if (size > 28 * 1024) p.push(`payload of ${size} bytes is over 28 KB`);
  if (b.type !== 'message') p.push('type is not "message"');
  const atts = (b.attachments ?? []) as Json[];
  if (!Array.isArray(atts) || atts.length === 0) p.push('no attachments');
  for (const a of atts) {
    if (a.contentType !== 'application/vnd.microsoft.card.adaptive') p.push(`contentType ${String(a.contentType)}`);
    const card = a.content as Json;
    if (card?.type !== 'AdaptiveCard') p.push('content is not an AdaptiveCard');
    if (typeof card?.version !== 'string') p.push('card without version');
    if (!Array.isArray(card?.body) || (card.body as unknown[]).length === 0) p.push('card without body');
  }
  return p;
}

function webhookProblems(b: Json): string[] {
  const keys = ['schema', 'event', 'title', 'status', 'environment', 'versions', 'actor', 'links', 'timestamp'];
  const p = keys.filter((k) => !(k in b)).map((k) => `missing ${k}`);
  if (b.schema !== 'slipway.notification/v1') p.push(`schema ${String(b.schema)}`);
  return p;
}

/** Whether `header` is Basic with exactly `user` and `password` (RFC 7617). */
function basicMatches(header: string | undefined, user: string, password: string): boolean {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  return !!m && Buffer.from(m[1], 'base64').toString('utf8') === `${user}:${password}`;
}

/** Start the stand-ins on one port; each service answers under its own path. */
export async function startReceivers(
  options: { basicAuth?: { user: string; password: string } } = {},
): Promise<Receivers> {
  const accepted: Accepted[] = [];
  const rejected: Receivers['rejected'] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const service = (req.url ?? '').split('/')[1] as Service;
      if (service === 'hang') return; // never answers
      const auth = options.basicAuth;
      if (auth && !basicMatches(req.headers.authorization, auth.user, auth.password)) {
        rejected.push({ service, reason: `authorization ${req.headers.authorization ? 'wrong' : 'missing'}` });
        res.writeHead(401, { 'www-authenticate': 'Basic realm="hooks"' }).end('invalid credentials');
        return;
      }
      const raw = Buffer.concat(chunks);
      let body: Json;
      try {
        body = JSON.parse(raw.toString('utf8')) as Json;
      } catch {
        rejected.push({ service, reason: 'not JSON' });
        res.writeHead(400).end('invalid_payload');
        return;
      }
      if (req.headers['content-type'] !== 'application/json') {
        rejected.push({ service, reason: `content-type ${req.headers['content-type']}` });
        res.writeHead(400).end('invalid_payload');
        return;
      }
      const problems =
        service === 'slack'
          ? slackProblems(body)
          : service === 'discord'
            ? discordProblems(body)
            : service === 'teams'
              ? teamsProblems(body, raw.length)
              : service === 'webhook'
                ? webhookProblems(body)
                : [`unknown service ${service}`];
      if (problems.length) {
        rejected.push({ service, reason: problems.join('; ') });
        res.writeHead(400).end(service === 'slack' ? 'invalid_blocks' : JSON.stringify({ message: problems[0] }));
        return;
      }
      accepted.push({ service, body });
      if (service === 'discord') res.writeHead(204).end();
      else if (service === 'teams') res.writeHead(202).end();
      else res.writeHead(200).end('ok');
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: (service, secret = 'T000/B000/secret') => `http://127.0.0.1:${port}/${service}/${secret}`,
    accepted,
    rejected,
    stop: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
