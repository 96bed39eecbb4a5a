/**
 * The HTTP probe against real servers on 127.0.0.1: TLS (a self-signed certificate, a private
 * CA trusted through NODE_EXTRA_CA_CERTS), redirects, compressed bodies, a body that stalls,
 * and services that start listening only after the first attempts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { WebSocketServer } from 'ws';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { parseYaml } from '../../src/core/yaml-source.js';
import { parseChecks, runChecks, type RunOptions } from '../../src/checks/index.js';
import { freePort } from '../helpers/postgres.js';
import { runBundledAction } from '../helpers/run-action.js';
import { startHttp, type TestHttp } from './servers.js';

const NOT_RETRIED = '(not retried: another attempt would not change it)';

async function run(yaml: string, opts: Partial<RunOptions> = {}) {
  const src = parseYaml(yaml, 'input "checks"');
  const rt = createMemoryRuntime();
  const results = await runChecks(
    parseChecks(src.value, src),
    { timeoutMs: 10_000, retries: 3, intervalMs: 20, concurrency: 10, env: {}, ...opts },
    rt,
  );
  return { results, rt, one: results[0] };
}

describe('TLS', () => {
  let dir: string;
  const servers: https.Server[] = [];
  let selfSigned: { url: string; connections: () => number };
  let privateCa: { url: string };

  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  async function serve(key: string, cert: string) {
    let connections = 0;
    const server = https.createServer(
      { key: readFileSync(path.join(dir, key)), cert: readFileSync(path.join(dir, cert)) },
      (_req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end('{"status":"ok"}');
      },
    );
    server.on('connection', () => connections++);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `https://127.0.0.1:${(server.address() as { port: number }).port}`, connections: () => connections };
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'slipway-tls-'));
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    // A server certificate signed by nobody.
    openssl('req', '-x509', ...ec, '-keyout', 'self.key', '-out', 'self.crt', '-days', '2', '-subj', '/CN=127.0.0.1');
    // A private CA, and a server certificate it signs for 127.0.0.1.
    openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Slipway Test CA');
    openssl('req', '-new', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(path.join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
    openssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '2',
      '-extfile',
      'san.cnf',
    );
    selfSigned = await serve('self.key', 'self.crt');
    privateCa = await serve('server.key', 'server.crt');
  });
  afterAll(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('fail a self-signed certificate at once with one line, not retried until the deadline', async () => {
    const { one } = await run(`- http: ${selfSigned.url}/health`, { retries: null, timeoutMs: 30_000 });
    expect(one.passed).toBe(false);
    expect(one.attempts).toBe(1);
    expect(selfSigned.connections()).toBe(1);
    expect(one.message).toBe(
      `TLS: the server's certificate was rejected: self-signed certificate [DEPTH_ZERO_SELF_SIGNED_CERT] (${selfSigned.url}/health); a private CA is trusted through NODE_EXTRA_CA_CERTS ${NOT_RETRIED}`,
    );
  });

  it('fail a WebSocket behind the same certificate the same way', async () => {
    const wss = new WebSocketServer({ server: servers[0] });
    try {
      const { one } = await run(`- websocket: ${selfSigned.url.replace('https:', 'wss:')}/live`, {
        retries: null,
        timeoutMs: 30_000,
      });
      expect(one).toMatchObject({ passed: false, attempts: 1 });
      expect(one.message).toMatch(
        /^TLS: the server's certificate was rejected: self-signed certificate \[DEPTH_ZERO_SELF_SIGNED_CERT\] \(wss:\/\/127\.0\.0\.1:\d+\/live\); .* \(not retried: another attempt would not change it\)$/,
      );
    } finally {
      wss.close();
    }
  });

  it('accept a private CA through NODE_EXTRA_CA_CERTS, and reject its certificate without it (the bundled action)', async () => {
    const inputs = {
      checks: `- name: private\n  http: ${privateCa.url}/health\n  expect: { json: { status: ok } }`,
      retries: 'unlimited',
      timeout: '30s',
    };
    const trusted = await runBundledAction('smoke-test', {
      cwd: dir,
      inputs,
      env: { NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.crt') },
    });
    expect(trusted.stderr).toBe('');
    expect(trusted.code).toBe(0);
    expect(trusted.outputs.passed).toBe('true');
    expect(JSON.parse(trusted.outputs.results)[0]).toMatchObject({ name: 'private', passed: true, attempts: 1 });

    const untrusted = await runBundledAction('smoke-test', { cwd: dir, inputs });
    expect(untrusted.code).toBe(1);
    expect(JSON.parse(untrusted.outputs.results)[0]).toMatchObject({ passed: false, attempts: 1 });
    expect(untrusted.stdout).toContain(
      `::error ::1 of 1 smoke tests failed: private: TLS: the server's certificate was rejected: unable to verify the first certificate [UNABLE_TO_VERIFY_LEAF_SIGNATURE] (${privateCa.url}/health)`,
    );
  });
});

describe('redirects', () => {
  let api: TestHttp;
  let other: TestHttp;
  const seen: Array<{ url?: string; method?: string; type?: string; auth?: string; body: string }> = [];
  const record = (req: http.IncomingMessage, then: (body: string) => void) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({
        url: req.url,
        method: req.method,
        type: req.headers['content-type'],
        auth: req.headers.authorization,
        body,
      });
      then(body);
    });
  };
  const redirect = (res: http.ServerResponse, status: number, location: string) => {
    res.writeHead(status, { location });
    res.end(`moved to ${location}`);
  };

  beforeAll(async () => {
    other = await startHttp((req, res) => record(req, () => res.end(`other origin ${req.method}`)));
    api = await startHttp((req, res) =>
      record(req, (body) => {
        const hops = /^\/hops\/(\d+)$/.exec(req.url ?? '');
        if (hops)
          return Number(hops[1]) === 0 ? res.end('arrived') : redirect(res, 302, `/hops/${Number(hops[1]) - 1}`);
        switch (req.url) {
          case '/see-other':
            return redirect(res, 303, '/welcome');
          case '/temporary':
            return redirect(res, 307, `${api.url}/echo`);
          case '/permanent':
            return redirect(res, 308, 'echo');
          case '/moved':
            return redirect(res, 301, '/echo');
          case '/away':
            return redirect(res, 302, `${other.url}/landing`);
          case '/loop':
            return redirect(res, 302, '/loop');
          case '/echo':
            return res.end(`${req.method} ${body}`);
          default:
            return res.end(`${req.method} ${req.url}`);
        }
      }),
    );
  });
  afterAll(async () => {
    await api.close();
    await other.close();
  });

  it('follow 301, 302, 303, 307 and 308 as fetch does: 303 (and 301/302 of a POST) become GET, 307/308 keep the method and body', async () => {
    seen.length = 0;
    const post = (p: string, body: string) =>
      `  http: ${p}\n  method: POST\n  body: '${body}'\n  headers: { content-type: text/plain }`;
    const { results } = await run(
      [
        `- name: see other\n${post('/see-other', 'a')}\n  expect: { body: GET /welcome }`,
        `- name: temporary\n${post('/temporary', 'b')}\n  expect: { body: POST b }`,
        `- name: permanent\n${post('/permanent', 'c')}\n  expect: { body: POST c }`,
        `- name: moved\n${post('/moved', 'd')}\n  expect: { body: 'GET ' }`,
        `- name: hops\n  http: /hops/5\n  expect: { body: arrived }`,
      ].join('\n'),
      { baseUrl: api.url, retries: 0, concurrency: 1 },
    );
    expect(results.map((r) => [r.name, r.passed, r.message])).toEqual([
      ['see other', true, undefined],
      ['temporary', true, undefined],
      ['permanent', true, undefined],
      ['moved', true, undefined],
      ['hops', true, undefined],
    ]);
    // The GET that follows a 303 carries neither the body nor its content type.
    expect(seen.find((s) => s.url === '/welcome')).toEqual({
      url: '/welcome',
      method: 'GET',
      type: undefined,
      auth: undefined,
      body: '',
    });
    expect(seen.filter((s) => s.url?.startsWith('/hops/')).map((s) => s.url)).toEqual([
      '/hops/5',
      '/hops/4',
      '/hops/3',
      '/hops/2',
      '/hops/1',
      '/hops/0',
    ]);
  });

  it('keep credentials on the same origin and drop them when a redirect leaves it', async () => {
    seen.length = 0;
    const { results } = await run(
      `- http: /away\n  headers: { Authorization: "Bearer \${TOKEN}" }\n  expect: { body: other origin GET }\n` +
        `- http: /moved\n  headers: { Authorization: "Bearer \${TOKEN}" }`,
      { baseUrl: api.url, retries: 0, concurrency: 1, env: { TOKEN: 'secret-token-1234' } },
    );
    expect(results.map((r) => r.passed)).toEqual([true, true]);
    expect(seen.map((s) => [s.url, s.auth])).toEqual([
      ['/away', 'Bearer secret-token-1234'],
      ['/landing', undefined],
      ['/moved', 'Bearer secret-token-1234'],
      ['/echo', 'Bearer secret-token-1234'],
    ]);
  });

  it('fail a redirect loop at once, saying so', async () => {
    seen.length = 0;
    const { one } = await run('- http: /loop', { baseUrl: api.url, retries: null });
    expect(one.passed).toBe(false);
    expect(one.attempts).toBe(1);
    expect(seen.length).toBe(21);
    expect(one.message).toBe(
      `more than 20 redirects (302 ${api.url}/loop → … → 302 ${api.url}/loop → /loop) ${NOT_RETRIED}`,
    );
  });
});

describe('bodies', () => {
  let api: TestHttp;
  const doc = JSON.stringify({ status: 'ok', padding: 'x'.repeat(2000) });
  const encoded: Record<string, Buffer> = {
    gzip: zlib.gzipSync(doc),
    deflate: zlib.deflateSync(doc),
    'raw-deflate': zlib.deflateRawSync(doc),
    br: zlib.brotliCompressSync(doc),
    'gzip-then-br': zlib.brotliCompressSync(zlib.gzipSync(doc)),
  };
  const encodingHeader: Record<string, string> = {
    'raw-deflate': 'deflate',
    'gzip-then-br': 'gzip, br',
  };
  beforeAll(async () => {
    api = await startHttp((req, res) => {
      const name = (req.url ?? '').slice(1);
      if (name === 'stall') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return res.write('the first half');
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': encodingHeader[name] ?? name });
      res.end(encoded[name]);
    });
  });
  afterAll(() => api.close());

  it('decode gzip, deflate (wrapped and raw), br and stacked encodings', async () => {
    const names = Object.keys(encoded);
    const { results, rt } = await run(
      names.map((n) => `- http: /${n}\n  expect: { json: { status: ok } }`).join('\n'),
      {
        baseUrl: api.url,
        retries: 0,
      },
    );
    expect(results.map((r) => [r.name, r.passed])).toEqual(names.map((n) => [`/${n}`, true]));
    expect(rt.text()).not.toContain('failed');
  });

  it('bound an answer whose body stops half-way by the attempt timeout', async () => {
    const { one } = await run('- http: /stall', { baseUrl: api.url, retries: 1, attemptTimeoutMs: 200 });
    expect(one.passed).toBe(false);
    expect(one.attempts).toBe(2);
    expect(one.message).toBe('no answer within 200 ms (after 2 attempts)');
  });
});

describe('kept-alive connections', () => {
  it('send an idempotent request again on a new connection when the server closed the reused one', async () => {
    // A server that hangs up on the second request of a connection, as one whose idle timeout
    // fires just as the client reuses the connection.
    const perSocket = new WeakMap<object, number>();
    let hangups = 0;
    const server = http.createServer((req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (n > 1) {
        hangups++;
        return req.socket.destroy();
      }
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const { results } = await run(
        `- http: ${url}/a\n- http: ${url}/b\n- http: ${url}/c\n- http: ${url}/d\n  method: POST`,
        { retries: 0, concurrency: 1 },
      );
      // /b reuses the connection of /a, /d that of /c (/b's retry went on a connection of its own).
      expect(hangups).toBe(2);
      expect(results.map((r) => [r.name, r.passed, r.attempts])).toEqual([
        [`${url}/a`, true, 1],
        [`${url}/b`, true, 1],
        [`${url}/c`, true, 1],
        // A POST is not sent twice: the reset is its verdict for this attempt.
        [`POST ${url}/d`, false, 1],
      ]);
      expect(results[3].message).toBe(`connection reset (${url}/d) (after 1 attempt)`);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('services that start late', () => {
  it('retry connection refused until the services listen, then pass', async () => {
    const [httpPort, tcpPort] = [await freePort(), await freePort()];
    const late = http.createServer((_req, res) => res.end('{"ready":true}'));
    const tcp = createTcpServer((s) => s.end());
    // Nothing listens on either port for the first attempts.
    const opening = new Promise<void>((resolve) =>
      setTimeout(() => {
        late.listen(httpPort, '127.0.0.1', () => tcp.listen(tcpPort, '127.0.0.1', () => resolve()));
      }, 400),
    );
    try {
      const { results, rt } = await run(
        `- http: http://127.0.0.1:${httpPort}/ready\n  expect: { json: { ready: true } }\n- tcp: 127.0.0.1:${tcpPort}`,
        { retries: null, intervalMs: 50 },
      );
      await opening;
      expect(results.map((r) => r.passed)).toEqual([true, true]);
      expect(results[0].attempts).toBeGreaterThan(1);
      expect(results[1].attempts).toBeGreaterThan(1);
      expect(rt.text()).toContain(`attempt 1 failed: connection refused (http://127.0.0.1:${httpPort}/ready)`);
      expect(rt.text()).toContain(`127.0.0.1:${tcpPort}: attempt 1 failed: connection refused`);
    } finally {
      late.closeAllConnections();
      await new Promise((r) => late.close(r));
      await new Promise((r) => tcp.close(r));
    }
  });
});
