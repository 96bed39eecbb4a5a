import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { isUserError } from '../../src/core/errors.js';
import { parseYaml } from '../../src/core/yaml-source.js';
import { parseChecks, runChecks, type RunOptions } from '../../src/checks/index.js';
import { parseReply, encodeCommand, parseRedisUrl, RespError } from '../../src/checks/resp.js';
import { freePort, startPostgres, TEST_PG_PASSWORD, type TestPostgres } from '../helpers/postgres.js';
import { runBundledAction } from '../helpers/run-action.js';
import { startRedis, startTcp, startWebSocket, type TestRedis } from './servers.js';

const REDIS_PASSWORD = 'r3dis-Secret!';
let pg: TestPostgres;
let redis: TestRedis;
let openRedis: TestRedis;
beforeAll(async () => {
  [pg, redis, openRedis] = await Promise.all([startPostgres(), startRedis(REDIS_PASSWORD), startRedis()]);
}, 60_000);
afterAll(async () => {
  pg?.stop();
  await Promise.all([redis?.stop(), openRedis?.stop()]);
});

async function run(yaml: string, env: Record<string, string>, opts: Partial<RunOptions> = {}) {
  const src = parseYaml(yaml, 'input "checks"');
  const rt = createMemoryRuntime({ env });
  const results = await runChecks(
    parseChecks(src.value, src),
    { timeoutMs: 15_000, retries: 1, intervalMs: 20, concurrency: 4, env, ...opts },
    rt,
  );
  return { results, rt, text: JSON.stringify(results) + rt.text() };
}

describe('postgres checks', () => {
  it('connect and run the query; a wrong password fails at once without leaking', async () => {
    const bad = pg.url().replace(encodeURIComponent(TEST_PG_PASSWORD), 'wrong-pass-1');
    const { results, text } = await run(
      `
- postgres: { env: DATABASE_URL }
- name: schema
  postgres: { env: DATABASE_URL, query: "select count(*) from pg_catalog.pg_tables" }
- name: bad query
  postgres: { env: DATABASE_URL, query: "select * from no_such_table" }
- name: bad password
  postgres: { env: BAD_URL }
`,
      { DATABASE_URL: pg.url(), BAD_URL: bad },
    );
    expect(results.map((r) => [r.name, r.passed, r.attempts])).toEqual([
      ['postgres DATABASE_URL', true, 1],
      ['schema', true, 1],
      ['bad query', false, 1],
      ['bad password', false, 1],
    ]);
    expect(results[0].target).toBe('DATABASE_URL');
    expect(results[2].message).toBe(
      `PostgreSQL answered 42P01: relation "no_such_table" does not exist (DATABASE_URL → 127.0.0.1:${pg.port}) (not retried: another attempt would not change it)`,
    );
    expect(results[3].message).toMatch(/^PostgreSQL answered 28P01: password authentication failed/);
    for (const secret of [TEST_PG_PASSWORD, encodeURIComponent(TEST_PG_PASSWORD), 'wrong-pass-1', pg.url()])
      expect(text).not.toContain(secret);
  });

  it('retry a server that is not up, until the retries are spent', async () => {
    const port = await freePort();
    const { results } = await run(
      '- postgres: { env: DB }',
      { DB: `postgres://u:pw-123@127.0.0.1:${port}/x` },
      { retries: 2 },
    );
    expect(results[0]).toMatchObject({
      passed: false,
      attempts: 3,
      message: `connection refused (DB → 127.0.0.1:${port}) (after 3 attempts)`,
    });
  });

  it('refuse a variable that is missing or not a postgres URL', async () => {
    const missing = await run('- postgres: { env: NOPE }', {}).catch((e) => e);
    expect(isUserError(missing)).toBe(true);
    expect(missing.message).toBe(
      'check "postgres NOPE": postgres.env: the environment variable NOPE is not set (expected a postgres:// URL)',
    );
    const wrong = await run('- postgres: { env: DB }', { DB: 'mysql://u:topsecret@h/db' }).catch((e) => e);
    expect(wrong.message).toBe(
      'check "postgres DB": postgres.env: DB does not hold a postgres:// or postgresql:// URL',
    );
    for (const [kind, url] of [
      ['postgres', 'postgres://u:topsecret@127.0.0.1:99999/db'],
      ['postgres', 'postgres://u:topsecret@127.0.0.1:0/db'],
      ['redis', 'redis://:topsecret@127.0.0.1:70000/0'],
    ]) {
      const port = /:(\d+)\//.exec(url.slice(12))![1];
      const bad = await run(`- ${kind}: { env: DB }`, { DB: url }).catch((e) => e);
      expect(isUserError(bad)).toBe(true);
      expect(bad.message).toBe(
        `check "${kind} DB": ${kind}.env: DB holds a URL with port ${port}; expected a port from 1 to 65535`,
      );
    }
  });
});

describe('redis checks', () => {
  it('AUTH, SELECT and PING a real redis-server', async () => {
    const { results, text } = await run(
      `
- redis: { env: REDIS_URL }
- name: db 3
  redis: { env: REDIS_DB3 }
- name: no auth
  redis: { env: OPEN_URL }
- name: wrong password
  redis: { env: WRONG_URL }
- name: auth required
  redis: { env: NO_PASSWORD_URL }
`,
      {
        REDIS_URL: redis.url(),
        REDIS_DB3: redis.url(3),
        OPEN_URL: openRedis.url(),
        WRONG_URL: `redis://:not-it-123@127.0.0.1:${redis.port}`,
        NO_PASSWORD_URL: `redis://127.0.0.1:${redis.port}`,
      },
    );
    expect(results.map((r) => [r.name, r.passed, r.attempts])).toEqual([
      ['redis REDIS_URL', true, 1],
      ['db 3', true, 1],
      ['no auth', true, 1],
      ['wrong password', false, 1],
      ['auth required', false, 1],
    ]);
    expect(results[3].message).toMatch(
      new RegExp(`^AUTH answered -WRONGPASS .*\\(WRONG_URL → 127\\.0\\.0\\.1:${redis.port}\\)`),
    );
    expect(results[4].message).toMatch(/^PING answered -NOAUTH Authentication required/);
    for (const secret of [REDIS_PASSWORD, encodeURIComponent(REDIS_PASSWORD), 'not-it-123'])
      expect(text).not.toContain(secret);
  });

  it('report a database number the server does not have', async () => {
    const { results } = await run('- redis: { env: R }', { R: openRedis.url(99) });
    expect(results[0].passed).toBe(false);
    expect(results[0].message).toMatch(/^SELECT answered -ERR DB index is out of range/);
  });

  it('wait for a redis that starts after the first attempts', async () => {
    const port = await freePort();
    const pending = run('- redis: { env: R }', { R: `redis://127.0.0.1:${port}` }, { retries: null, intervalMs: 100 });
    // The check is already failing with connection refused when the server comes up on that port.
    await new Promise((r) => setTimeout(r, 250));
    const late = await startRedis(undefined, port);
    try {
      const { results, rt } = await pending;
      expect(results[0].passed).toBe(true);
      expect(results[0].attempts).toBeGreaterThan(1);
      expect(rt.text()).toContain(`attempt 1 failed: connection refused (R → 127.0.0.1:${port})`);
    } finally {
      await late.stop();
    }
  });
});

describe('RESP', () => {
  it('encodes commands and parses every reply type, waiting for whole replies', () => {
    expect(encodeCommand(['AUTH', 'pässword']).toString()).toBe('*2\r\n$4\r\nAUTH\r\n$9\r\npässword\r\n');
    const buf = Buffer.from('+PONG\r\n-ERR bad\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*2\r\n:1\r\n$1\r\nx\r\n');
    const values = [];
    let offset = 0;
    for (let r; (r = parseReply(buf, offset)); offset = r.next) values.push(r.value);
    expect(values).toEqual(['PONG', new RespError('ERR bad'), 42, 'hello', null, [1, 'x']]);
    expect(parseReply(Buffer.from('$5\r\nhel'))).toBeNull();
  });

  it('parses redis URLs', () => {
    expect(parseRedisUrl('rediss://app:p%40ss@cache.internal:6380/2')).toEqual({
      host: 'cache.internal',
      port: 6380,
      tls: true,
      username: 'app',
      password: 'p@ss',
      db: 2,
    });
    expect(parseRedisUrl('redis://localhost')).toMatchObject({ port: 6379, db: 0, password: undefined });
  });
});

describe('the bundled action', () => {
  it('runs every kind of check, pg and ws loaded from their own chunks, and speaks the runner protocol', async () => {
    const [ws, tcp] = await Promise.all([startWebSocket(), startTcp()]);
    const dir = mkdtempSync(path.join(tmpdir(), 'slipway-smoke-bundle-'));
    try {
      const run = await runBundledAction('smoke-test', {
        cwd: dir,
        inputs: {
          checks: `
- postgres: { env: DATABASE_URL }
- redis: { env: REDIS_URL }
- name: socket
  websocket: ${ws.url}/live
  send: status
  expect: { json: { ok: true } }
- tcp: 127.0.0.1:${tcp.port}
- name: "100% down, line 1\\nline 2"
  tcp: 127.0.0.1:${await freePort()}
`,
          retries: '0',
        },
        env: { DATABASE_URL: pg.url(), REDIS_URL: redis.url() },
      });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(1);
      expect(JSON.parse(run.outputs.results).map((r: { name: string; passed: boolean }) => [r.name, r.passed])).toEqual(
        [
          ['postgres DATABASE_URL', true],
          ['redis REDIS_URL', true],
          ['socket', true],
          [`127.0.0.1:${tcp.port}`, true],
          ['100% down, line 1\nline 2', false],
        ],
      );
      const lines = run.stdout.split('\n');
      // Secrets are masked on the runner before anything else is printed.
      expect(lines.indexOf(`::add-mask::${pg.url()}`)).toBeGreaterThanOrEqual(0);
      expect(lines).toContain(`::add-mask::${TEST_PG_PASSWORD}`);
      expect(lines).toContain(`::add-mask::${redis.url()}`);
      expect(lines.filter((l) => l.startsWith('::add-mask::')).length).toBe(
        new Set(lines.filter((l) => l.startsWith('::add-mask::'))).size,
      );
      // One fold around the checks, opened and closed.
      expect(lines.filter((l) => /^::(end)?group::/.test(l))).toEqual([
        '::group::Smoke tests: 5 checks, 10 at a time, deadline 2 min 0 s',
        '::endgroup::',
      ]);
      // % escaped as the runner unescapes it; the failure stays one line even when a name has two.
      expect(lines.filter((l) => l.startsWith('::error'))).toEqual([
        expect.stringMatching(
          /^::error ::1 of 5 smoke tests failed: 100%25 down, line 1 line 2: connection refused \(127\.0\.0\.1:\d+\) \(after 1 attempt\)$/,
        ),
      ]);
      expect(run.summary).toContain('| ✅ | socket |');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await Promise.all([ws.close(), tcp.close()]);
    }
  });
});
