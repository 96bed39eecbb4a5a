/** Real servers for the check tests: HTTP, TCP, WebSocket and Redis (Debian's redis-server), all on 127.0.0.1. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { freePort } from '../helpers/postgres.js';

/** An HTTP server whose handler the test sets; it records each request path. */
export interface TestHttp {
  url: string;
  port: number;
  requests: string[];
  /** Most requests in flight at once. */
  maxInFlight: number;
  handle(fn: http.RequestListener): void;
  close(): Promise<void>;
}

/** Start an HTTP server on 127.0.0.1. */
export async function startHttp(handler?: http.RequestListener): Promise<TestHttp> {
  let current: http.RequestListener = handler ?? ((_, res) => res.end('ok'));
  let inFlight = 0;
  const state = { requests: [] as string[], maxInFlight: 0 };
  const server = http.createServer((req, res) => {
    state.requests.push(req.url ?? '');
    inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    // Counted down when the handler ends the response (not on 'close', which comes a tick later
    // and could overlap the client's next request on the same event loop).
    let counted = true;
    const end = res.end.bind(res) as (...args: unknown[]) => http.ServerResponse;
    res.end = ((...args: unknown[]) => {
      if (counted) inFlight--;
      counted = false;
      return end(...args);
    }) as typeof res.end;
    res.on('close', () => {
      if (counted) inFlight--;
      counted = false;
    });
    current(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get requests() {
      return state.requests;
    },
    get maxInFlight() {
      return state.maxInFlight;
    },
    handle: (fn) => (current = fn),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A TCP listener that accepts and closes connections. */
export async function startTcp(): Promise<{ port: number; accepted: () => number; close(): Promise<void> }> {
  let accepted = 0;
  const server: Server = createServer((s) => {
    accepted++;
    s.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    accepted: () => accepted,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A WebSocket server answering "pong <message>" to each message, with a JSON reply to "status". */
export async function startWebSocket(): Promise<{ url: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws) =>
    ws.on('message', (data) => {
      const text = String(data);
      ws.send(text === 'status' ? JSON.stringify({ ok: true, clients: 1 }) : `pong ${text}`);
    }),
  );
  const port = (wss.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}

/** A running redis-server in a temporary folder. */
export interface TestRedis {
  port: number;
  url(db?: number): string;
  stop(): Promise<void>;
}

/** Start Debian's redis-server (on a free port unless `port` is given), with a password when `password` is given. */
export async function startRedis(password?: string, port?: number): Promise<TestRedis> {
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-redis-'));
  port ??= await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  if (password) args.push('--requirepass', password);
  const child: ChildProcess = spawn('redis-server', args, { stdio: 'ignore' });
  const started = Date.now();
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() - started > 10_000) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`redis-server did not start on port ${port} (is Debian's redis-server installed?)`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    url: (db = 0) =>
      `redis://${password ? `:${encodeURIComponent(password)}@` : ''}127.0.0.1:${port}${db ? `/${db}` : ''}`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
