/** Redis checks: AUTH when the URL has a password, SELECT its database, then PING → PONG. */
import type { ResolvedCheck } from '../resolve.js';
import { parseRedisUrl, RespError, sendCommands } from '../resp.js';
import type { RedisCheck } from '../types.js';
import { networkError, ProbeError, msSince, type AttemptContext, type Observation } from './probe.js';

// Replies that mean the server is still starting; anything else (auth, unknown db) is permanent.
const WARMING = /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN)\b/;

/** PING the server; the latency covers connecting, AUTH, SELECT and PING. */
export async function probeRedis(check: RedisCheck & ResolvedCheck, ctx: AttemptContext): Promise<Observation> {
  const target = parseRedisUrl(check.connection!);
  const where = `${check.env} → ${target.host}:${target.port}`;
  const commands: string[][] = [];
  if (target.password)
    commands.push(target.username ? ['AUTH', target.username, target.password] : ['AUTH', target.password]);
  if (target.db !== 0) commands.push(['SELECT', String(target.db)]);
  commands.push(['PING']);
  const start = performance.now();
  let replies;
  try {
    replies = await sendCommands(target, commands, ctx.signal);
  } catch (err) {
    throw networkError(err, ctx, where);
  }
  const latencyMs = msSince(start);
  for (const [i, reply] of replies.entries()) {
    if (reply instanceof RespError) {
      const step = commands[i][0];
      throw new ProbeError(`${step} answered -${reply.message} (${where})`, WARMING.test(reply.message));
    }
  }
  const pong = replies[replies.length - 1];
  if (pong !== 'PONG') throw new ProbeError(`expected +PONG, got ${JSON.stringify(pong)} (${where})`, true);
  return { latencyMs };
}
