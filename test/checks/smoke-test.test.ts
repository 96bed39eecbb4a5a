import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { inputVariable, parseInputs } from '../../src/core/inputs.js';
import { isUserError } from '../../src/core/errors.js';
import { smokeTest } from '../../src/checks/smoke-test.js';
import { junitXml, type CheckResult } from '../../src/checks/index.js';
import { errorLines, runBundledAction } from '../helpers/run-action.js';
import { freePort } from '../helpers/postgres.js';
import { startHttp, type TestHttp } from './servers.js';

let api: TestHttp;
const dirs: string[] = [];
beforeAll(async () => {
  api = await startHttp((req, res) => {
    if (req.url === '/health') {
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify({ status: 'ok', db: { up: true } }));
    }
    if (req.url === '/echo') {
      // An error page that shows the request's credentials back, as some debug pages do.
      res.statusCode = 500;
      return res.end(`auth=${req.headers.authorization}`);
    }
    if (req.url === '/broken') {
      res.statusCode = 502;
      return res.end('bad gateway');
    }
    res.end('ok');
  });
});
afterAll(() => api.close());
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

function workspace(config?: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-smoke-'));
  dirs.push(dir);
  if (config !== undefined) {
    mkdirSync(path.join(dir, '.github'));
    writeFileSync(path.join(dir, '.github/slipway.yml'), config);
  }
  return dir;
}

/** Run the action in-process; returns outputs, log, summary, or the error it threw. */
async function smoke(cwd: string, inputs: Record<string, string>, env: Record<string, string> = {}) {
  const fullEnv: NodeJS.ProcessEnv = { ...env };
  for (const [k, v] of Object.entries({ interval: '20ms', ...inputs })) fullEnv[inputVariable(k)] = v;
  const rt = createMemoryRuntime({ env: fullEnv, cwd });
  let error: Error | undefined;
  try {
    await smokeTest.run(parseInputs(smokeTest.inputs, fullEnv, rt), rt);
  } catch (err) {
    error = err as Error;
  }
  return { outputs: rt.outputs, log: rt.text(), summary: rt.summaries.join('\n'), error };
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  isArray: (name) => name === 'testcase',
});

describe('smoke-test', () => {
  it('runs inline checks and writes outputs, the summary and a JUnit report a parser reads', async () => {
    const dir = workspace();
    const out = await smoke(dir, {
      checks: `
- name: api health
  http: /health
  expect: { status: 200, json: { status: ok, db.up: true } }
- name: gateway <&> "quotes"
  http: /broken
`,
      url: api.url,
      retries: '1',
      report: 'reports/smoke.xml',
    });
    expect(out.error && isUserError(out.error)).toBe(true);
    expect(out.error!.message).toBe(
      '1 of 2 smoke tests failed: gateway <&> "quotes": expected a 2xx status, got 502 "bad gateway" (after 2 attempts)',
    );
    expect(out.outputs.passed).toBe('false');
    expect(JSON.parse(out.outputs.failed)).toEqual(['gateway <&> "quotes"']);
    const results = JSON.parse(out.outputs.results) as CheckResult[];
    expect(results.map((r) => [r.name, r.passed, r.attempts])).toEqual([
      ['api health', true, 1],
      ['gateway <&> "quotes"', false, 2],
    ]);
    expect(out.outputs.report).toBe(path.join(dir, 'reports/smoke.xml'));
    expect(out.summary).toContain('**1 of 2 checks failed.**');
    expect(out.summary).toMatch(/\| ✅ \| api health \| 1 \| \d+ ms \|/);
    expect(out.summary).toContain('| ❌ | gateway <&> "quotes" | 2 |');

    const doc = parser.parse(readFileSync(out.outputs.report, 'utf8'));
    const suite = doc.testsuites.testsuite;
    expect(suite).toMatchObject({ name: 'smoke-test', tests: '2', failures: '1', errors: '0' });
    expect(suite.testcase[0]).toMatchObject({ name: 'api health', classname: 'smoke-test.http' });
    expect(suite.testcase[0].failure).toBeUndefined();
    expect(suite.testcase[1].name).toBe('gateway <&> "quotes"');
    expect(suite.testcase[1].failure.message).toBe('expected a 2xx status, got 502 "bad gateway" (after 2 attempts)');
  });

  it('reads the health entries of the components and the environment url from the policy file', async () => {
    const dir = workspace(`
components:
  api:
    health:
      - http: /health
        expect: { json: { status: ok } }
  web:
    health:
      - { name: home, http: /, expect: { body: ok } }
  worker: {}
environments:
  staging: { url: "${api.url}" }
`);
    const out = await smoke(dir, { environment: 'staging' });
    expect(out.error).toBeUndefined();
    expect(out.outputs.passed).toBe('true');
    expect(JSON.parse(out.outputs.results).map((r: CheckResult) => r.name)).toEqual(['api: /health', 'web: home']);
    expect(out.log).toContain('✅ api: /health (1 attempt,');
    expect(out.log).toContain('All 2 smoke tests passed.');
  });

  it('points a malformed health entry at its line in the policy file', async () => {
    const dir = workspace('components:\n  api:\n    health:\n      - http: /health\n        expect: { satus: 200 }\n');
    const out = await smoke(dir, { url: api.url });
    expect(out.error!.message).toBe(
      '.github/slipway.yml:5:19: components.api.health[0].expect.satus: unknown key "satus" (expected one of: status, body, json, header, maxLatencyMs)',
    );
  });

  it.each([
    [{ checks: '- tcp: nope' }, 'input "checks":1:3: [0].tcp: expected host:port, e.g. db.internal:5432'],
    [{ checks: '[]' }, 'input "checks": expected a list of checks, found an empty list'],
    [{ checks: '- http: /a', environment: 'prod' }, 'input "environment": unknown environment "prod"'],
    [{ checks: '- http: /a', url: 'example.com' }, 'input "url": expected an http(s) URL, got "example.com"'],
    [{ checks: '- http: /a', timeout: 'soon' }, 'input "timeout": expected a duration such as 500ms, 30s or 2m'],
    [{ checks: '- http: /a', retries: '-1' }, 'input "retries": expected a whole number of retries, or unlimited'],
  ])('fails at once on bad input %j', async (inputs, message) => {
    const out = await smoke(workspace(), inputs as Record<string, string>);
    expect(out.error).toBeDefined();
    expect(isUserError(out.error)).toBe(true);
    expect(out.error!.message).toContain(message);
  });

  it('with no checks anywhere, succeeds with a warning that nothing was verified', async () => {
    const out = await smoke(workspace('components:\n  api: {}\n'), {});
    expect(out.error).toBeUndefined();
    expect(out.outputs).toMatchObject({ passed: 'true', failed: '[]', results: '[]' });
    expect(out.log).toContain(
      'smoke-test: no checks: the checks input is empty and no component of .github/slipway.yml has health entries',
    );
    expect(out.summary).toContain('nothing was verified');
  });

  it('without a policy file says so; an unset ${NAME} fails before a group announces any check', async () => {
    const none = await smoke(workspace(), {});
    expect(none.log).toContain(
      'smoke-test: no checks: the checks input is empty and there is no policy file (.github/slipway.yml) to read health entries from',
    );
    const unset = await smoke(workspace(), {
      checks: '- http: /echo\n  headers: { X-A: "${NOPE_UNSET}" }',
      url: api.url,
    });
    expect(unset.error?.message).toBe(
      'check "/echo": ${NOPE_UNSET} is used but the environment variable NOPE_UNSET is not set',
    );
    expect(unset.log).not.toContain('Smoke tests:');
  });

  it('keeps secrets out of the report, the outputs and the summary', async () => {
    const dir = workspace();
    const out = await smoke(
      dir,
      {
        checks: `- http: ${api.url.replace('http://', 'http://ci:pw-in-url-77@')}/echo\n  headers: { Authorization: "Bearer \${TOKEN}" }`,
        retries: '0',
        report: 'r.xml',
      },
      { TOKEN: 'token-abcdef-123' },
    );
    expect(out.outputs.passed).toBe('false');
    const everything = [
      readFileSync(path.join(dir, 'r.xml'), 'utf8'),
      JSON.stringify(out.outputs),
      out.summary,
      out.log,
      out.error!.message,
    ].join('\n');
    expect(everything).toContain('ci:***@');
    expect(everything).toContain('got 500 "auth=***"');
    for (const secret of ['pw-in-url-77', 'token-abcdef-123']) expect(everything).not.toContain(secret);
  });

  it('masks a ${NAME} that holds a credential, not a path: the outputs keep their text', async () => {
    const env: NodeJS.ProcessEnv = {
      [inputVariable('checks')]: '- http: /${CHECK_PATH}\n  headers: { X-Client: "${CLIENT_SECRET}" }',
      [inputVariable('url')]: api.url,
      [inputVariable('interval')]: '20ms',
      CHECK_PATH: 'health',
      CLIENT_SECRET: 'cl-s3cret-77',
    };
    const rt = createMemoryRuntime({ env, cwd: workspace() });
    await smokeTest.run(parseInputs(smokeTest.inputs, env, rt), rt);
    expect(rt.outputs.passed).toBe('true');
    // Masking "health" would have turned the target into …/*** here and in every output.
    expect(JSON.parse(rt.outputs.results)[0]).toMatchObject({ name: '/${CHECK_PATH}', target: `${api.url}/health` });
    expect(rt.redact('sent cl-s3cret-77')).toBe('sent ***');
  });

  it('refuses a base URL with a query, which would swallow the check paths', async () => {
    const out = await smoke(workspace(), { checks: '- http: /health', url: `${api.url}/?a=1` });
    expect(out.error?.message).toBe(
      `input "url": expected a base URL without a query or fragment (check paths are appended to it), got "${api.url}/?a=1"`,
    );
  });

  it('dry run validates and lists the checks without contacting anything', async () => {
    const before = api.requests.length;
    const out = await smoke(
      workspace(),
      { checks: '- http: /health\n- postgres: { env: DATABASE_URL }', url: api.url, 'dry-run': 'true' },
      { DATABASE_URL: 'postgres://app:pw-dry-run-1@db:5432/app' },
    );
    expect(out.error).toBeUndefined();
    expect(api.requests.length).toBe(before);
    expect(out.outputs.passed).toBe('');
    expect(JSON.parse(out.outputs.results)).toEqual([
      { name: '/health', kind: 'http', target: `${api.url}/health` },
      { name: 'postgres DATABASE_URL', kind: 'postgres', target: 'DATABASE_URL' },
    ]);
    expect(out.log + out.summary).not.toContain('pw-dry-run-1');
  });
});

describe('the JUnit report', () => {
  it('has one testsuite whose counts match its testcases, and one <failure> per failed check', async () => {
    const tcp = await freePort();
    const dir = workspace();
    const out = await smoke(dir, {
      checks: `
- name: api health
  http: /health
  expect: { json: { status: ok } }
- name: wrong body
  http: /missing
  expect: { status: 200, body: nowhere }
- name: sampled
  http: /health
  samples: 3
- name: database port
  tcp: 127.0.0.1:${tcp}
`,
      url: api.url,
      retries: '1',
      report: 'out/junit.xml',
    });
    expect(out.error?.message).toMatch(/^2 of 4 smoke tests failed: /);
    const results = JSON.parse(out.outputs.results) as CheckResult[];
    const strict = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '',
      parseTagValue: false,
      isArray: (name) => ['testsuite', 'testcase', 'failure', 'system-out'].includes(name),
    });
    const xml = readFileSync(path.join(dir, 'out/junit.xml'), 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    const root = strict.parse(xml).testsuites;
    expect(root).toMatchObject({ name: 'smoke-test', tests: '4', failures: '2', errors: '0' });
    expect(root.testsuite).toHaveLength(1);
    const suite = root.testsuite[0];
    expect(suite).toMatchObject({ name: 'smoke-test', tests: '4', failures: '2', errors: '0', skipped: '0' });
    expect(suite.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    const cases = suite.testcase as Array<Record<string, unknown> & { failure?: Array<Record<string, string>> }>;
    expect(cases.map((c) => [c.name, c.classname])).toEqual([
      ['api health', 'smoke-test.http'],
      ['wrong body', 'smoke-test.http'],
      ['sampled', 'smoke-test.http'],
      ['database port', 'smoke-test.tcp'],
    ]);
    expect(cases.filter((c) => c.failure).length).toBe(Number(suite.failures));
    cases.forEach((c, i) => {
      const r = results[i];
      expect(c.time).toBe((r.durationMs / 1000).toFixed(3));
      expect((c['system-out'] as string[])[0]).toContain(`attempts: ${r.attempts}\ntarget: ${r.target}`);
      if (r.passed) return expect(c.failure).toBeUndefined();
      expect(c.failure).toEqual([{ message: r.message, type: r.kind, '#text': r.message }]);
    });
    expect(cases[1].failure![0].message).toBe('expected body containing "nowhere", got "ok" (after 2 attempts)');
    expect(cases[3].failure![0].message).toBe(`connection refused (127.0.0.1:${tcp}) (after 2 attempts)`);
    expect((cases[2]['system-out'] as string[])[0]).toMatch(/p50: \d+ ms, p95: \d+ ms, max: \d+ ms/);
  });
});

describe('junitXml', () => {
  it('escapes names and messages and drops characters XML forbids', () => {
    const xml = junitXml([
      {
        name: 'a & b',
        kind: 'tcp',
        target: 'h:1',
        passed: false,
        attempts: 3,
        latencyMs: null,
        message: 'bad \u0001 <x>',
        durationMs: 1500,
      },
    ]);
    const doc = parser.parse(xml);
    expect(doc.testsuites.testsuite.testcase[0]).toMatchObject({ name: 'a & b', time: '1.500' });
    expect(doc.testsuites.testsuite.testcase[0].failure.message).toBe('bad  <x>');
  });
});

describe('the bundled action', () => {
  it('runs as a runner runs it, and fails with one ::error:: line', async () => {
    const entry = path.join(path.dirname(new URL(import.meta.url).pathname), '../../dist/smoke-test/index.js');
    expect(existsSync(entry)).toBe(true);
    const dir = workspace();
    const run = await runBundledAction('smoke-test', {
      cwd: dir,
      inputs: {
        checks: `- http: ${api.url}/health\n  expect: { json: { db.up: true } }\n- http: ${api.url}/broken\n  name: broken`,
        retries: '0',
        report: 'junit.xml',
      },
    });
    expect(run.code).toBe(1);
    expect(errorLines(run)).toEqual([
      '::error ::1 of 2 smoke tests failed: broken: expected a 2xx status, got 502 "bad gateway" (after 1 attempt)',
    ]);
    expect(run.outputs.passed).toBe('false');
    expect(JSON.parse(run.outputs.failed)).toEqual(['broken']);
    expect(run.summary).toContain('| ✅ |');
    expect(parser.parse(readFileSync(path.join(dir, 'junit.xml'), 'utf8')).testsuites.tests).toBe('2');
  });

  it('points a malformed health entry at its file and line, escaped as the runner reads annotation properties', async () => {
    const dir = workspace();
    mkdirSync(path.join(dir, 'cfg'));
    writeFileSync(
      path.join(dir, 'cfg/a,b:c.yml'),
      'components:\n  api:\n    health:\n      - http: /x\n        expect: { status: nope }\n',
    );
    const run = await runBundledAction('smoke-test', { cwd: dir, inputs: { config: 'cfg/a,b:c.yml' } });
    expect(run.code).toBe(1);
    expect(errorLines(run)).toEqual([
      '::error file=cfg/a%2Cb%3Ac.yml,line=5,col=19::cfg/a,b:c.yml:5:19: components.api.health[0].expect.status: expected an HTTP status such as 200',
    ]);
    expect(run.outputs).toEqual({});
  });
});
