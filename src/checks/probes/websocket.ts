/** WebSocket checks: the handshake, then optionally a message sent and the first answer read. */
import WebSocket from 'ws';
import type { ResolvedCheck } from '../resolve.js';
import type { WebSocketCheck } from '../types.js';
import { networkError, ProbeError, msSince, type AttemptContext, type Observation } from './probe.js';

/** Open a WebSocket; when the check sends or expects a message, wait for the first one. */
export function probeWebSocket(check: WebSocketCheck & ResolvedCheck, ctx: AttemptContext): Promise<Observation> {
  const waitForMessage = check.send !== undefined || check.expect.body !== undefined || check.expect.json !== undefined;
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const ws = new WebSocket(check.url, {
      headers: check.headers,
      handshakeTimeout: Math.max(1, Math.round(ctx.timeoutMs)),
    });
    let settled = false;
    const done = (err: Error | null, obs?: Observation) => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener('abort', onAbort);
      ws.removeAllListeners('message');
      ws.on('error', () => undefined);
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
      else ws.terminate();
      if (err) reject(err);
      else resolve(obs!);
    };
    const onAbort = () => done(networkError(new Error('aborted'), ctx, check.target));
    if (ctx.signal.aborted) return onAbort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      done(
        new ProbeError(
          `expected a WebSocket upgrade, got HTTP ${status}`,
          status >= 500 || [408, 425, 429].includes(status),
        ),
      );
    });
    ws.on('open', () => {
      if (!waitForMessage) return done(null, { latencyMs: msSince(start) });
      if (check.send !== undefined) ws.send(check.send);
    });
    ws.on('message', (data: WebSocket.RawData) => {
      const body = Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data as ArrayBuffer).toString('utf8');
      done(null, { latencyMs: msSince(start), body });
    });
    ws.on('close', (code) =>
      done(new ProbeError(`the server closed the connection (code ${code}) before a message arrived`, true)),
    );
    ws.on('error', (err) => {
      if (/handshake timed out/i.test(err.message))
        return done(new ProbeError(`no answer within ${Math.round(ctx.timeoutMs)} ms`, true));
      done(networkError(err, ctx, check.target));
    });
  });
}
