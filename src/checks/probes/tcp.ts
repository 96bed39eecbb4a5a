/** TCP checks: a connection is opened and closed at once. */
import { connect } from 'node:net';
import type { ResolvedCheck } from '../resolve.js';
import type { TcpCheck } from '../types.js';
import { networkError, msSince, type AttemptContext, type Observation } from './probe.js';

/** Connect to host:port; the latency is the time to the established connection. */
export function probeTcp(check: TcpCheck & ResolvedCheck, ctx: AttemptContext): Promise<Observation> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const socket = connect({ host: check.host, port: check.port });
    const onAbort = () => {
      socket.destroy();
      reject(networkError(new Error('aborted'), ctx, check.target));
    };
    if (ctx.signal.aborted) return onAbort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      const latencyMs = msSince(start);
      ctx.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve({ latencyMs });
    });
    socket.once('error', (err) => {
      ctx.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(networkError(err, ctx, check.target));
    });
  });
}
