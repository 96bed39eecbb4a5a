import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { isUserError } from '../../src/core/errors.js';
import { parseYaml } from '../../src/core/yaml-source.js';
import { parseChecks, runChecks, type CheckResult, type RunOptions } from '../../src/checks/index.js';
import { startHttp, startTcp, startWebSocket, type TestHttp } from './servers.js';
import { freePort } from '../helpers/postgres.js';

let api: TestHttp;
beforeAll(async () => {
  api = await startHttp();
});
afterAll(() => api.close());

const fast: Omit<RunOptions, 'env'> = { timeoutMs: 10_000, retries: 3, intervalMs: 20, concurrency: 10 };

/** Parse `yaml` and run it against the test server with fast retries. */
async function run(yaml: string, opts: Partial<RunOptions> = {}) {
  const src = parseYaml(yaml, 'input "checks"');
  const rt = createMemoryRuntime();
  const results = await runChecks(parseChecks(src.value, src), { ...fast, baseUrl: api.url, env: {}, ...opts }, rt);
  return { results, rt, one: results[0] };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  ((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }) as Parameters<TestHttp['handle']>[0];

describe('http checks', () => {
  it('pass when every expectation holds', async () => {
    api.handle(json({ status: 'ok', db: { up: true }, items: [{ id: 7 }] }));
    const { one } = await run(`
- name: api health
  http: /health
  expect:
    status: 200
    body: '"status":"ok"'
    json: { status: ok, db.up: true, items.0.id: 7 }
    header: { content-type: application/json }
    maxLatencyMs: 5000
`);
    expect(one).toMatchObject({ name: 'api health', passed: true, attempts: 1, kind: 'http' });
    expect(one.target).toBe(`${api.url}/health`);
    expect(one.latencyMs).toBeGreaterThan(0);
    expect(one.message).toBeUndefined();
  });

  it('wait for a service that becomes ready after a few refusals and 503s', async () => {
    let n = 0;
    api.handle((_req, res) => {
      n++;
      res.statusCode = n < 3 ? 503 : 200;
      res.end(n < 3 ? 'starting' : 'ok');
    });
    const { one, rt } = await run('- http: /ready\n  expect: { body: ok }', { retries: null });
    expect(one).toMatchObject({ passed: true, attempts: 3 });
    expect(rt.text()).toContain('/ready: attempt 1 failed: expected a 2xx status, got 503 "starting"; retrying in');
  });

  it('report the last full attempt when the deadline cut the final one short', async () => {
    // A 503 with its reason, then a service that stops answering: the final attempt gets only
    // what is left of the deadline, and its "no answer" would hide the reason.
    let n = 0;
    api.handle((_req, res) => {
      n++;
      if (n === 1) {
        res.statusCode = 503;
        res.end('BOT_TOKEN missing');
      }
    });
    const { one } = await run('- http: /health', { timeoutMs: 1500, retries: null, attemptTimeoutMs: 60_000 });
    expect(one.passed).toBe(false);
    expect(one.message).toMatch(
      /^expected a 2xx status, got 503 "BOT_TOKEN missing" \(the 1\.5 s deadline passed after 2 attempts\)$/,
    );
  });

  it('retry a failed assertion on a 2xx (the service may be warming)', async () => {
    let n = 0;
    api.handle((req, res) => json({ status: ++n < 4 ? 'warming' : 'ok' })(req, res));
    const { one } = await run('- http: /warm\n  expect: { json: { status: ok } }', { retries: null });
    expect(one).toMatchObject({ passed: true, attempts: 4 });
  });

  it('retry connection refused until the retries are spent', async () => {
    const port = await freePort();
    const { one } = await run(`- http: http://127.0.0.1:${port}/\n  name: nothing there`, { retries: 2 });
    expect(one.passed).toBe(false);
    expect(one.attempts).toBe(3);
    expect(one.message).toBe(`connection refused (http://127.0.0.1:${port}/) (after 3 attempts)`);
  });

  it.each([
    ['- http: /x\n  expect: { status: 201 }', json({}, 200), 'expected status 201, got 200 "{}" (after 2 attempts)'],
    [
      '- http: /x\n  expect: { status: [200, 204] }',
      json({ e: 1 }, 503),
      'expected status 200 or 204, got 503 "{"e":1}" (after 2 attempts)',
    ],
    [
      '- http: /x\n  expect: { body: healthy }',
      json({ status: 'sick' }),
      'expected body containing "healthy", got "{"status":"sick"}" (after 2 attempts)',
    ],
    [
      '- http: /x\n  expect: { json: { db.up: true } }',
      json({ db: { up: false } }),
      'expected json db.up = true, found false (after 2 attempts)',
    ],
    [
      '- http: /x\n  expect: { json: { db.up: true } }',
      json({ db: {} }),
      'expected json db.up = true, found nothing at db.up (after 2 attempts)',
    ],
    [
      '- http: /x\n  expect: { json: { version: "2" } }',
      json({ version: 2 }),
      'expected json version = "2", found 2 (after 2 attempts)',
    ],
    [
      '- http: /x\n  expect: { json: { a: 1 } }',
      (_q: unknown, s: { end(b: string): void }) => s.end('<html>oops</html>'),
      'expected a JSON body, got "<html>oops</html>" (after 2 attempts)',
    ],
    [
      '- http: /x\n  expect: { header: { content-type: text/plain } }',
      json({}),
      'expected header content-type containing "text/plain", found "application/json" (after 2 attempts)',
    ],
    [
      '- http: /x\n  expect: { header: { x-version: "1" } }',
      json({}),
      'expected header x-version containing "1", found no x-version header (after 2 attempts)',
    ],
  ] as const)('report a failed assertion: %s', async (yaml, handler, message) => {
    api.handle(handler as Parameters<TestHttp['handle']>[0]);
    const { one } = await run(yaml, { retries: 1 });
    expect(one).toMatchObject({ passed: false, attempts: 2, message });
  });

  it('report the measured latency against maxLatencyMs', async () => {
    api.handle((_req, res) => setTimeout(() => res.end('slow'), 60));
    const { one } = await run('- http: /slow\n  expect: { maxLatencyMs: 5 }', { retries: 1 });
    expect(one.passed).toBe(false);
    expect(one.message).toMatch(/^expected latency ≤ 5 ms, measured \d+ ms \(after 2 attempts\)$/);
    expect(Number(/measured (\d+)/.exec(one.message!)![1])).toBeGreaterThanOrEqual(55);
  });

  it('fail a 4xx at once: another attempt would not change it', async () => {
    api.handle((_req, res) => {
      res.statusCode = 404;
      res.end('no such route');
    });
    const before = api.requests.length;
    const { one } = await run('- http: /missing', { retries: null });
    expect(one.attempts).toBe(1);
    expect(api.requests.length - before).toBe(1);
    expect(one.message).toBe(
      'expected a 2xx status, got 404 "no such route" (not retried: another attempt would not change it)',
    );
  });

  it('retry 429 like a 5xx', async () => {
    let n = 0;
    api.handle((_req, res) => {
      res.statusCode = ++n === 1 ? 429 : 200;
      res.end();
    });
    const { one } = await run('- http: /limited');
    expect(one).toMatchObject({ passed: true, attempts: 2 });
  });

  it('send the method, headers and JSON body', async () => {
    let seen: { method?: string; auth?: string; type?: string; body: string } = { body: '' };
    api.handle((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen = { method: req.method, auth: req.headers.authorization, type: req.headers['content-type'], body };
        res.end('ok');
      });
    });
    const { one } = await run(
      '- http: /login\n  method: post\n  headers: { Authorization: "Bearer ${API_TOKEN}" }\n  body: { user: ci }',
      { env: { API_TOKEN: 'tok-123456789' } },
    );
    expect(one.passed).toBe(true);
    expect(seen).toEqual({
      method: 'POST',
      auth: 'Bearer tok-123456789',
      type: 'application/json',
      body: '{"user":"ci"}',
    });
  });
});

describe('secrets', () => {
  it('mask URL passwords, sensitive query values and header values in every message', async () => {
    api.handle((_req, res) => {
      res.statusCode = 500;
      res.end('boom tok-abcdefgh1 and hunter22pw');
    });
    const { one, rt } = await run(
      `- http: http://ci:hunter22pw@127.0.0.1:${api.port}/x?api_key=key-9876543
  headers: { X-Api-Token: tok-abcdefgh1 }`,
      { retries: 1 },
    );
    const everything = JSON.stringify(one) + rt.text();
    for (const secret of ['hunter22pw', 'key-9876543', 'tok-abcdefgh1']) expect(everything).not.toContain(secret);
    expect(one.target).toBe(`http://ci:***@127.0.0.1:${api.port}/x?api_key=***`);
    expect(one.message).toBe('expected a 2xx status, got 500 "boom *** and ***" (after 2 attempts)');
  });

  it('refuse a missing variable before contacting anything', async () => {
    const before = api.requests.length;
    const err = await run('- http: /a\n- http: /b\n  headers: { Authorization: "Bearer ${NOPE}" }').catch((e) => e);
    expect(isUserError(err)).toBe(true);
    expect(err.message).toBe('check "/b": ${NOPE} is used but the environment variable NOPE is not set');
    expect(api.requests.length).toBe(before);
  });

  it('fail at once a header value node:http will not send, without showing it', async () => {
    const before = api.requests.length;
    const { one, rt } = await run('- http: /a\n  headers: { Authorization: "Bearer ${TOKEN}" }', {
      retries: null,
      env: { TOKEN: 'tok-with-newline-123\n' },
    });
    expect(api.requests.length).toBe(before);
    expect(one).toMatchObject({ passed: false, attempts: 1 });
    expect(one.message).toBe(
      `the request cannot be sent: Invalid character in header content ["Authorization"] [ERR_INVALID_CHAR] (${api.url}/a) (not retried: another attempt would not change it)`,
    );
    expect(JSON.stringify(one) + rt.text()).not.toContain('tok-with-newline');
  });

  it('refuse a relative URL without a base URL', async () => {
    const err = await run('- http: /a', { baseUrl: undefined }).catch((e) => e);
    expect(err.message).toContain('check "/a": the relative URL /a needs a base URL');
  });
});

describe('running many', () => {
  it('keep at most `concurrency` checks in flight and return results in order', async () => {
    api.handle((_req, res) => setTimeout(() => res.end('ok'), 30));
    const yaml = Array.from({ length: 12 }, (_, i) => `- http: /c${i}`).join('\n');
    const server = await startHttp((_req, res) => setTimeout(() => res.end('ok'), 30));
    try {
      const { results } = await run(yaml, { concurrency: 3, baseUrl: server.url });
      expect(results.map((r) => r.name)).toEqual(Array.from({ length: 12 }, (_, i) => `/c${i}`));
      expect(results.every((r) => r.passed)).toBe(true);
      expect(server.maxInFlight).toBe(3);
    } finally {
      await server.close();
    }
  });

  it('stop at the deadline and say so, with the last failure', async () => {
    api.handle((_req, res) => {
      res.statusCode = 503;
      res.end('down');
    });
    const { one } = await run('- http: /down', { retries: null, timeoutMs: 400, intervalMs: 50 });
    expect(one.passed).toBe(false);
    expect(one.attempts).toBeGreaterThanOrEqual(2);
    expect(one.message).toMatch(
      /^expected a 2xx status, got 503 "down" \(the 400 ms deadline (passed after|leaves no time for attempt) \d+/,
    );
  });

  it('bound a hanging attempt by the deadline', async () => {
    api.handle(() => undefined);
    const { one } = await run('- http: /hang', { retries: null, timeoutMs: 300 });
    expect(one.passed).toBe(false);
    expect(one.attempts).toBe(1);
    expect(one.message).toMatch(/^no answer within \d+ ms \(the 300 ms deadline passed after 1 attempt\)$/);
  });

  it('stop when cancelled', async () => {
    api.handle((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const { one } = await run('- http: /c', { retries: null, signal: controller.signal, intervalMs: 30 });
    expect(one.passed).toBe(false);
    expect(one.message).toMatch(/cancelled after \d+ attempts/);
  });
});

describe('samples', () => {
  it('measure N times after passing and report p50, p95 and max', async () => {
    let n = 0;
    // Latencies of 10, 20 … 100 ms across the samples: p50 ≈ 50, p95 ≈ 100.
    api.handle((_req, res) => setTimeout(() => res.end('ok'), (n++ % 10) * 10 + 10));
    const { one } = await run('- http: /sampled\n  samples: 10\n  expect: { maxLatencyMs: 5000 }');
    // Counted by path: a request the previous test aborted may still reach the server late.
    expect(api.requests.filter((r) => r === '/sampled')).toHaveLength(11);
    expect(one.passed).toBe(true);
    expect(one.latency!.samples).toBe(10);
    expect(one.latency!.p50).toBeLessThanOrEqual(one.latency!.p95);
    expect(one.latency!.p95).toBeLessThanOrEqual(one.latency!.max);
    expect(one.latency!.p50).toBeGreaterThanOrEqual(45);
    expect(one.latency!.max).toBeGreaterThanOrEqual(95);
    expect(one.latencyMs).toBe(one.latency!.p95);
  });

  it('fail a flapping service on the sample that failed', async () => {
    let n = 0;
    api.handle((_req, res) => {
      res.statusCode = ++n === 4 ? 503 : 200;
      res.end(n === 4 ? 'flap' : 'ok');
    });
    const { one } = await run('- http: /flap\n  samples: 5');
    expect(one).toMatchObject({
      passed: false,
      attempts: 1,
      message: 'sample 3 of 5 failed: expected a 2xx status, got 503 "flap"',
    });
  });

  it('apply maxLatencyMs to the p95', async () => {
    api.handle((_req, res) => setTimeout(() => res.end('ok'), 40));
    const { one } = await run('- http: /p95\n  samples: 4\n  expect: { maxLatencyMs: 10 }');
    expect(one.passed).toBe(false);
    expect(one.attempts).toBe(1);
    expect(one.message).toMatch(
      /^expected p95 latency ≤ 10 ms, measured p95 \d+ ms \(p50 \d+ ms, max \d+ ms over 4 samples\)$/,
    );
  });
});

describe('tcp and websocket checks', () => {
  it('connect to a TCP listener, and report a closed port', async () => {
    const tcp = await startTcp();
    const closed = await freePort();
    try {
      const { results } = await run(`- tcp: 127.0.0.1:${tcp.port}\n- tcp: 127.0.0.1:${closed}`, { retries: 1 });
      expect(results[0]).toMatchObject({ passed: true, attempts: 1, target: `127.0.0.1:${tcp.port}` });
      expect(tcp.accepted()).toBe(1);
      expect(results[1]).toMatchObject({
        passed: false,
        attempts: 2,
        message: `connection refused (127.0.0.1:${closed}) (after 2 attempts)`,
      });
    } finally {
      await tcp.close();
    }
  });

  it('open a WebSocket, send a message and check the answer', async () => {
    const ws = await startWebSocket();
    try {
      const { results } = await run(`
- websocket: ${ws.url}/socket
  name: open
- websocket: ${ws.url}/socket
  name: echo
  send: hello
  expect: { body: pong hello }
- websocket: ${ws.url}/socket
  name: status
  send: status
  expect: { json: { ok: true } }
- websocket: ${ws.url}/socket
  name: wrong
  send: hello
  expect: { body: goodbye }
`);
      expect(results.map((r) => [r.name, r.passed])).toEqual([
        ['open', true],
        ['echo', true],
        ['status', true],
        ['wrong', false],
      ]);
      expect(results[3].message).toBe('expected body containing "goodbye", got "pong hello" (after 4 attempts)');
    } finally {
      await ws.close();
    }
  });

  it('resolve a relative WebSocket URL against an http base URL', async () => {
    const ws = await startWebSocket();
    try {
      const { one } = await run('- websocket: /live\n  send: x\n  expect: { body: pong x }', {
        baseUrl: ws.url.replace('ws:', 'http:'),
      });
      expect(one).toMatchObject({ passed: true, target: `${ws.url}/live` });
    } finally {
      await ws.close();
    }
  });

  it('report an HTTP answer to a WebSocket handshake', async () => {
    api.handle((_req, res) => {
      res.statusCode = 403;
      res.end();
    });
    const { one } = await run('- websocket: /ws', { retries: null });
    expect(one).toMatchObject({
      passed: false,
      attempts: 1,
      message: 'expected a WebSocket upgrade, got HTTP 403 (not retried: another attempt would not change it)',
    });
  });
});

export type { CheckResult };
