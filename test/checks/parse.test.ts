import { describe, expect, it } from '@jest/globals';
import { parseConfig } from '../../src/core/config.js';
import { isUserError } from '../../src/core/errors.js';
import { parseYaml } from '../../src/core/yaml-source.js';
import { healthChecks, parseChecks } from '../../src/checks/index.js';

const parse = (text: string) => {
  const src = parseYaml(text, 'input "checks"');
  return parseChecks(src.value, src);
};
const errorOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(isUserError(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a UserError');
};

describe('parseChecks', () => {
  it('reads every kind with its defaults', () => {
    const checks = parse(`
- name: api health
  http: https://api.example.com/health
  expect: { status: 200, body: ok, json: { status: ok, db.up: true }, header: { content-type: application/json }, maxLatencyMs: 500 }
- http: /login
  method: post
  body: { user: a }
  expect: { status: [200, 302] }
- tcp: db.internal:5432
- postgres: { env: DATABASE_URL }
- redis: { env: REDIS_URL }
- websocket: wss://example.com/ws
  send: ping
  expect: { body: pong }
  samples: 5
`);
    expect(checks.map((c) => c.name)).toEqual([
      'api health',
      'POST /login',
      'db.internal:5432',
      'postgres DATABASE_URL',
      'redis REDIS_URL',
      'wss://example.com/ws',
    ]);
    expect(checks[0]).toMatchObject({ kind: 'http', method: 'GET', expect: { status: [200], maxLatencyMs: 500 } });
    expect(checks[1]).toMatchObject({
      method: 'POST',
      body: '{"user":"a"}',
      headers: { 'content-type': 'application/json' },
      expect: { status: [200, 302] },
    });
    expect(checks[2]).toMatchObject({ kind: 'tcp', host: 'db.internal', port: 5432 });
    expect(checks[3]).toMatchObject({ kind: 'postgres', env: 'DATABASE_URL', query: 'select 1' });
    expect(checks[5]).toMatchObject({ kind: 'websocket', send: 'ping', samples: 5, expect: { body: 'pong' } });
  });

  it('accepts ports 1 and 65535, in host:port and in URLs', () => {
    const checks = parse(
      '- tcp: localhost:1\n- tcp: "[::1]:65535"\n- http: http://localhost:65535/x\n- websocket: ws://localhost:1/ws',
    );
    expect(checks.map((c) => (c.kind === 'tcp' ? c.port : c.kind))).toEqual([1, 65535, 'http', 'websocket']);
  });

  it('hides a password in a default name', () => {
    const [c] = parse('- http: https://user:hunter22@example.com/health');
    expect(c.name).toBe('https://user:***@example.com/health');
  });

  it.each([
    ['- tcp: db.internal', 'input "checks":1:3: [0].tcp: expected host:port, e.g. db.internal:5432'],
    ['- http: ftp://x/y', 'input "checks":1:3: [0].http: expected an http(s) URL or a path starting with /'],
    ['- name: a\n  url: https://x', 'input "checks":1:3: [0]: expected one of http, tcp, postgres, redis, websocket'],
    ['- http: /a\n  tcp: x:1', 'input "checks":2:3: [0].tcp: a check has one kind, found both http and tcp'],
    [
      '- http: /a\n  expect:\n    statuss: 200',
      'input "checks":3:5: [0].expect.statuss: unknown key "statuss" (expected one of: status, body, json, header, maxLatencyMs)',
    ],
    [
      '- http: /a\n  expect: { status: 700 }',
      'input "checks":2:13: [0].expect.status: expected an HTTP status between 100 and 599',
    ],
    ['- postgres: DATABASE_URL', 'input "checks":1:3: [0].postgres: expected { env: VARIABLE }'],
    ['- redis: { env: "not a name" }', 'input "checks":1:12: [0].redis.env: expected an environment variable name'],
    ['- tcp: a:1\n  samples: 0', 'input "checks":2:3: [0].samples: expected at least 1 sample'],
    [
      '- tcp: a:1\n  expect: { body: x }',
      'input "checks":2:13: [0].expect.body: unknown key "body" (expected one of: maxLatencyMs)',
    ],
    ['- tcp: a:1\n- tcp: a:1', 'input "checks":2:3: [1].tcp: duplicate check name "a:1" (also item 0)'],
    [
      'http: /a',
      'input "checks":1:1: expected a list of checks (each with one of http, tcp, postgres, redis, websocket), found a mapping',
    ],
    ['- http: /a\n  body: 3', 'input "checks":2:3: [0].body: expected a string, or a mapping or list to send as JSON'],
    [
      '- http: /a\n  expect: { status: [200, 99] }',
      'input "checks":2:27: [0].expect.status[1]: expected an HTTP status between 100 and 599',
    ],
    ['- [a, b]', 'input "checks":1:3: [0]: expected a check (a mapping'],
    [
      '- http: /a\n  headers: { "x api key": v }',
      'input "checks":2:14: [0].headers.x api key: expected a header name (letters, digits and -, no spaces or colons)',
    ],
    ['- http: /a\n   bad: [', 'input "checks":'],
    // A port outside 1-65535 is a parse error, not a check retried until the deadline.
    ['- tcp: localhost:99999', 'input "checks":1:3: [0].tcp: expected a port from 1 to 65535, found 99999'],
    ['- tcp: localhost:0', 'input "checks":1:3: [0].tcp: expected a port from 1 to 65535, found 0'],
    ['- tcp: "[::1]:65536"', 'input "checks":1:3: [0].tcp: expected a port from 1 to 65535, found 65536'],
    ['- tcp: a:1234567', 'input "checks":1:3: [0].tcp: expected a port from 1 to 65535, found 1234567'],
    [
      '- http: http://localhost:0/health',
      'input "checks":1:3: [0].http: expected a port from 1 to 65535 in the URL, found 0',
    ],
    [
      '- http: https://user:p@ss@localhost:99999/health',
      'input "checks":1:3: [0].http: expected a port from 1 to 65535 in the URL, found 99999',
    ],
    [
      '- websocket: ws://[::1]:70000/ws',
      'input "checks":1:3: [0].websocket: expected a port from 1 to 65535 in the URL, found 70000',
    ],
  ])('rejects %j with the line and what was expected', (text, message) => {
    expect(errorOf(() => parse(text))).toContain(message);
  });

  it('points errors in health entries at the policy file line', () => {
    const config = parseConfig(
      [
        'components:',
        '  api:',
        '    health:',
        '      - http: /health',
        '      - http: /ready',
        '        expect: { status: nope }',
      ].join('\n'),
      '.github/slipway.yml',
    );
    expect(errorOf(() => healthChecks(config, 'api'))).toBe(
      '.github/slipway.yml:6:19: components.api.health[1].expect.status: expected an HTTP status such as 200',
    );
  });

  it('reads health entries of a valid policy file', () => {
    const config = parseConfig(
      'components:\n  api:\n    health:\n      - { http: /health, expect: { status: 200 } }\n  web: {}\n',
      'slipway.yml',
    );
    expect(healthChecks(config, 'api')).toMatchObject([{ kind: 'http', url: '/health', name: '/health' }]);
    expect(healthChecks(config, 'web')).toEqual([]);
  });
});
