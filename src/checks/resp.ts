/**
 * Just enough of the Redis protocol (RESP) for a health check: AUTH, SELECT and PING over
 * one connection, so that the check needs no client library.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** A RESP reply: simple string, error, integer, bulk string (null when absent) or array. */
export type RespValue = string | number | null | RespError | RespValue[];

/** An error reply (`-ERR ...`). */
export class RespError {
  constructor(readonly message: string) {}
}

/** The parts of a redis:// or rediss:// URL. */
export interface RedisTarget {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
  db: number;
}

/** Parse a redis:// URL: redis://[user][:password]@host[:port][/db]. */
export function parseRedisUrl(url: string): RedisTarget {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error('expected a redis:// or rediss:// URL');
  const dbText = u.pathname.replace(/^\//, '') || u.searchParams.get('db') || '0';
  if (!/^\d+$/.test(dbText)) throw new Error(`expected a database number in the URL path, found "${dbText}"`);
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    tls: u.protocol === 'rediss:',
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: Number(dbText),
  };
}

/** A command as RESP: an array of bulk strings. */
export function encodeCommand(args: readonly string[]): Buffer {
  const parts = [`*${args.length}\r\n`];
  for (const a of args) parts.push(`$${Buffer.byteLength(a)}\r\n${a}\r\n`);
  return Buffer.from(parts.join(''));
}

/** Parse one reply at `offset`; null when the buffer does not hold a whole reply yet. */
export function parseReply(buf: Buffer, offset = 0): { value: RespValue; next: number } | null {
  const eol = buf.indexOf('\r\n', offset);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[offset]);
  const line = buf.toString('utf8', offset + 1, eol);
  switch (type) {
    case '+':
      return { value: line, next: eol + 2 };
    case '-':
      return { value: new RespError(line), next: eol + 2 };
    case ':':
      return { value: Number(line), next: eol + 2 };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, next: eol + 2 };
      if (buf.length < eol + 2 + len + 2) return null;
      return { value: buf.toString('utf8', eol + 2, eol + 2 + len), next: eol + 2 + len + 2 };
    }
    case '*': {
      const count = Number(line);
      const items: RespValue[] = [];
      let next = eol + 2;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, next);
        if (!item) return null;
        items.push(item.value);
        next = item.next;
      }
      return { value: count < 0 ? null : items, next };
    }
    default:
      throw new Error(
        `not a Redis server: unexpected reply ${JSON.stringify(buf.toString('utf8', offset, Math.min(eol, offset + 40)))}`,
      );
  }
}

/** Send `commands` in one write and collect one reply per command. */
export function sendCommands(
  target: RedisTarget,
  commands: readonly (readonly string[])[],
  signal: AbortSignal,
): Promise<RespValue[]> {
  return new Promise((resolve, reject) => {
    const socket: Socket = target.tls
      ? tlsConnect({ host: target.host, port: target.port, servername: target.host })
      : netConnect({ host: target.host, port: target.port });
    let buf = Buffer.alloc(0);
    const replies: RespValue[] = [];
    const finish = (err: Error | null) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve(replies);
    };
    const onAbort = () => finish(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once(target.tls ? 'secureConnect' : 'connect', () =>
      socket.write(Buffer.concat(commands.map((c) => encodeCommand(c)))),
    );
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      try {
        let reply;
        let offset = 0;
        while (replies.length < commands.length && (reply = parseReply(buf, offset))) {
          replies.push(reply.value);
          offset = reply.next;
        }
        buf = buf.subarray(offset);
      } catch (err) {
        return finish(err as Error);
      }
      if (replies.length === commands.length) finish(null);
    });
    socket.once('error', (err) => finish(err));
    socket.once('close', () => {
      if (replies.length < commands.length)
        finish(Object.assign(new Error('connection closed before the reply'), { code: 'ECONNRESET' }));
    });
  });
}
