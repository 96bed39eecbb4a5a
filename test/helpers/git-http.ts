/**
 * A git remote over HTTP on 127.0.0.1 for network-failure tests: git's "dumb" HTTP
 * protocol (static files of a bare repository after `git update-server-info`), with
 * failures on demand — the next N requests answered 503, or left hanging.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';

/** A running remote. */
export interface GitHttpRemote {
  /** The URL to give `git remote set-url`. */
  url: string;
  /** Every request path, in order. */
  requests: string[];
  /** Answer the next `times` requests with `failure`: an HTTP status, or 'hang' (never answered). */
  failNext(failure: number | 'hang', times?: number): void;
  stop(): Promise<void>;
}

/** Serve the bare repository `bareDir` (its server info is refreshed first). */
export async function startGitHttpRemote(bareDir: string): Promise<GitHttpRemote> {
  execFileSync('git', ['update-server-info'], { cwd: bareDir });
  const requests: string[] = [];
  const failures: (number | 'hang')[] = [];
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(url.pathname);
    const failure = failures.shift();
    if (failure === 'hang') {
      hanging.add(res);
      return;
    }
    if (failure !== undefined) {
      res.writeHead(failure, { 'content-type': 'text/plain' }).end('unavailable\n');
      return;
    }
    // Dumb HTTP: the smart-protocol probe (?service=) gets the plain file, which tells git to fall back.
    const file = path.join(bareDir, path.normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, ''));
    if (!file.startsWith(bareDir) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(readFileSync(file));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    requests,
    failNext(failure, times = 1) {
      for (let i = 0; i < times; i++) failures.push(failure);
    },
    async stop() {
      for (const s of sockets) s.destroy();
      hanging.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
