/**
 * The bad-input rule, for every action as a runner runs it (the bundled dist/<name>/index.js):
 * one bad input, or a bad policy file, fails with exit code 1 and exactly one `::error` line
 * that names the input (or the file and line, as annotation properties too) and says what was
 * expected; no stack trace or Node internal error on any line; the case's secret on no line
 * but `::add-mask::`; and nothing changed: no file, ledger entry, tag, release or migration.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { createRepo, type TestRepo } from './helpers/git-repo.js';
import { startGitHubServer, type GitHubServer } from './helpers/github-server.js';
import { freePort, startPostgres, TEST_PG_PASSWORD, type TestPostgres } from './helpers/postgres.js';
import { errorLines, runBundledAction, type ActionRun } from './helpers/run-action.js';

const TOKEN = 'ghs_badInputToken0123456789abcdefABCDEF';
const POLICY = '.github/slipway.yml';
/** A token the GitHub server answers 401 to. */
const WRONG_TOKEN = 'ghs_wrongToken0123456789abcdefABCDEF0';

/** A valid policy: one deployable component, one environment. */
const GOOD_POLICY = [
  'versioning:',
  '  tag: "v{version}"',
  'components:',
  '  api:',
  '    paths: [api/**]',
  '    deploy: { run: "echo deployed >> deploy.log" }',
  'environments:',
  '  staging: { url: "http://127.0.0.1:9" }',
  '',
].join('\n');

/** Line 6 is indented one column less than the keys of its mapping. */
const BAD_YAML_POLICY = [
  'versioning:',
  '  tag: "v{version}"',
  'components:',
  '  api:',
  '    paths: [api/**]',
  '   deploy: { run: "echo deployed >> deploy.log" }',
  'environments:',
  '  staging: { url: "http://127.0.0.1:9" }',
  '',
].join('\n');

/** Line 5: paths is a string where a list is expected. */
const WRONG_TYPE_POLICY = GOOD_POLICY.replace('paths: [api/**]', 'paths: api/**');

/** What every case's run shares: the GitHub API, a PostgreSQL server and a closed port. */
let gh: GitHubServer;
let postgres: TestPostgres;
let closedPort: number;

beforeAll(async () => {
  [gh, postgres, closedPort] = await Promise.all([startGitHubServer({ token: TOKEN }), startPostgres(), freePort()]);
}, 60_000);
afterAll(async () => {
  await gh?.stop();
  postgres?.stop();
});

/** A product repository: the policy (or none), a tagged release and one commit after it, a migration. */
function product(policy: string | null = GOOD_POLICY): TestRepo {
  const repo = createRepo();
  const files: Record<string, string> = {
    'api/a.txt': 'a\n',
    'migrations/001_create_items.sql': 'CREATE TABLE items (id int PRIMARY KEY);\n',
    '.gitignore': '.slipway/\ndeploy.log\n',
  };
  if (policy !== null) files[POLICY] = policy;
  repo.commit('feat: api', files);
  repo.tag('v1.0.0');
  repo.commit('fix: api', { 'api/a.txt': 'b\n' });
  return repo;
}

/** Every file outside .git with a hash of its content, and every ref: what a half-applied change would alter. */
function snapshot(repo: TestRepo): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (abs !== path.join(repo.dir, '.git')) walk(abs);
      } else {
        const hash = createHash('sha256').update(readFileSync(abs)).digest('hex');
        out.push(`${path.relative(repo.dir, abs)} ${hash}`);
      }
    }
  };
  walk(repo.dir);
  out.push(...repo.git('for-each-ref', '--format=%(refname) %(objectname)').trim().split('\n'));
  return out.sort();
}

async function tables(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ name: string }>(
      "SELECT table_schema || '.' || table_name AS name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
    );
    return r.rows.map((x) => x.name).sort();
  } finally {
    await c.end();
  }
}

/** What the case prepares before the run. */
interface Setup {
  repo: TestRepo;
  /** A fresh database's URL, for the migrate cases that reach one. */
  database?: string;
}

interface Case {
  action: string;
  what: string;
  /** The policy file's text (null: none). */
  policy?: string | null;
  inputs: (s: Setup) => Record<string, string>;
  env?: (s: Setup) => Record<string, string>;
  /** Needs a fresh database (its tables are compared before and after). */
  database?: boolean;
  /** Text the error line must name: the input, or `file:line`. */
  names: string | ((s: Setup) => string);
  /** What was expected, as the error says it. */
  expected: RegExp;
  /** The annotation's file= and line= properties, for a policy file. */
  at?: { file: string; line: number };
  /** A secret of the case: on no stdout/stderr line but ::add-mask::. */
  secret?: string;
  /** Run in a repository without any commit. */
  emptyRepo?: boolean;
  /** A cause retries cannot fix: it must fail at the first attempt. */
  noRetry?: boolean;
}

/** The inputs each action needs besides the bad one, so only that one is wrong. */
const BASE: Record<string, Record<string, string>> = {
  'version-bump': {},
  'build-selective': { token: TOKEN },
  migrate: {},
  deploy: { environment: 'staging', version: '1.1.0', token: TOKEN },
  'smoke-test': { checks: '- http: http://127.0.0.1:9/health' },
  'tag-release': { version: '1.1.0', token: TOKEN },
  pipeline: { environments: 'staging', token: TOKEN },
};
const ACTIONS = Object.keys(BASE);

/** Inputs of the migrate cases that reach a database: a real one, fresh per case. */
const dbInputs = (s: Setup) => ({ 'database-url': s.database!, dir: 'migrations' });

const policyCases: Case[] = ACTIONS.flatMap((action): Case[] => [
  {
    action,
    what: 'a policy file with bad YAML',
    policy: BAD_YAML_POLICY,
    inputs: () => BASE[action],
    names: `${POLICY}:6`,
    expected: /invalid YAML: .*must/,
    at: { file: POLICY, line: 6 },
  },
  {
    action,
    what: 'a policy file with a wrong type at a key',
    policy: WRONG_TYPE_POLICY,
    inputs: () => BASE[action],
    names: `${POLICY}:5`,
    expected: /components\.api\.paths: expected array/,
    at: { file: POLICY, line: 5 },
  },
  {
    action,
    what: 'a config input naming a file that does not exist',
    inputs: () => ({ ...BASE[action], config: 'ci/missing.yml' }),
    names: 'input "config"',
    expected: /expected the path of a policy file in the repository, got "ci\/missing\.yml"/,
  },
]);

const migrateSecret = 'Hunter2-never-shown';

/** Line 2 starts an alias bomb: a few lines that expand to millions of nodes. */
const ALIAS_BOMB_POLICY = [
  'a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]',
  'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
  'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
  'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
  'e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]',
  'components: { api: { paths: [api/**] } }',
  '',
].join('\n');

/** More of the red-team's hostile inputs (#18.8), each a case for the action that meets it first. */
const hostileCases: Case[] = [
  ...['version-bump', 'deploy'].map((action): Case => ({
    action,
    what: 'a YAML alias bomb in the policy file',
    policy: ALIAS_BOMB_POLICY,
    inputs: () => BASE[action],
    names: `${POLICY}:2`,
    expected: /aliases expand to too many nodes/,
    at: { file: POLICY, line: 2 },
  })),
  {
    action: 'version-bump',
    what: 'a component named __proto__',
    policy: GOOD_POLICY.replace('environments:', '  __proto__: { paths: [x/**] }\nenvironments:'),
    inputs: () => ({}),
    names: `${POLICY}:7`,
    expected: /key "__proto__" is not allowed \(expected a name of letters/,
    at: { file: POLICY, line: 7 },
  },
  {
    action: 'build-selective',
    what: 'a component listed twice (the second would silently win)',
    policy: GOOD_POLICY.replace('environments:', '  api: { paths: [other/**] }\nenvironments:'),
    inputs: () => BASE['build-selective'],
    names: `${POLICY}:7`,
    expected: /key "api" appears twice in the same map/,
    at: { file: POLICY, line: 7 },
  },
  {
    action: 'build-selective',
    what: 'a component name with shell characters',
    policy: GOOD_POLICY.replace('environments:', '  "web; rm -rf /": { paths: [web/**] }\nenvironments:'),
    inputs: () => BASE['build-selective'],
    names: `${POLICY}:7`,
    expected: /invalid name: expected a component name of letters, digits/,
    secret: TOKEN,
  },
  {
    action: 'deploy',
    what: 'an environment input of 10,000 characters',
    inputs: () => ({ ...BASE.deploy, environment: `staging${'x'.repeat(9_993)}` }),
    names: 'input "environment"',
    expected: /…" \(10000 characters\)/,
    secret: TOKEN,
  },
  {
    action: 'version-bump',
    what: 'a repository without commits',
    emptyRepo: true,
    inputs: () => ({}),
    names: 'has no commits yet',
    expected: /expected a checkout with at least one commit/,
  },
  {
    action: 'build-selective',
    what: 'a repository without commits',
    emptyRepo: true,
    inputs: () => ({}),
    names: 'has no commits yet',
    expected: /expected a checkout with at least one commit/,
  },
  {
    action: 'migrate',
    what: 'sslmode=require against a server without TLS',
    database: true,
    inputs: (s) => ({ 'database-url': `${s.database!}?sslmode=require`, dir: 'migrations' }),
    names: 'input "database-url"',
    expected: /the URL asks for TLS \(sslmode\) and the server does not offer it/,
    noRetry: true,
    secret: TEST_PG_PASSWORD,
  },
];

const inputCases: Case[] = [
  {
    action: 'version-bump',
    what: 'bump: huge',
    inputs: () => ({ bump: 'huge' }),
    names: 'input "bump"',
    expected: /expected one of auto, major/,
  },
  {
    action: 'version-bump',
    what: 'initial-version: x',
    inputs: () => ({ 'initial-version': 'x' }),
    names: 'input "initial-version"',
    expected: /expected a semantic version/,
  },
  {
    action: 'build-selective',
    what: 'malformed filters YAML',
    policy: null,
    inputs: () => ({ token: TOKEN, filters: 'api:\n  - api/**\n web: [web/**]\n' }),
    names: 'input "filters"',
    expected: /line 3|:3:/,
  },
  {
    action: 'build-selective',
    what: 'a version object that is not JSON',
    inputs: () => ({ token: TOKEN, version: '{api: 1.0.0' }),
    names: 'input "version"',
    expected: /expected a version or a JSON object of component → version/,
  },
  {
    action: 'build-selective',
    what: 'parallel: 0',
    inputs: () => ({ token: TOKEN, parallel: '0' }),
    names: 'input "parallel"',
    expected: /expected a whole number of at least 1/,
  },
  {
    action: 'build-selective',
    what: 'a base that is not a commit',
    inputs: () => ({ token: TOKEN, base: 'no-such-ref' }),
    names: 'input "base"',
    expected: /expected a commit/,
  },
  {
    action: 'migrate',
    what: 'a malformed database-url with a password',
    inputs: () => ({ 'database-url': `postgres//admin:${migrateSecret}@127.0.0.1/app`, dir: 'migrations' }),
    names: 'input "database-url"',
    expected: /expected a (PostgreSQL )?URL/,
    secret: migrateSecret,
  },
  {
    action: 'migrate',
    what: 'a database-url at a closed port, with a password',
    inputs: () => ({
      'database-url': `postgres://admin:${migrateSecret}@127.0.0.1:${closedPort}/app`,
      dir: 'migrations',
    }),
    names: 'input "database-url"',
    expected:
      /cannot connect to PostgreSQL at 127\.0\.0\.1:\d+\/app: .*\(expected a server that accepts the connection\)/,
    secret: migrateSecret,
  },
  {
    action: 'migrate',
    what: 'lock-timeout: -1',
    database: true,
    inputs: (s) => ({ ...dbInputs(s), 'lock-timeout': '-1' }),
    names: 'input "lock-timeout"',
    expected: /expected a whole number of at least 0/,
    secret: TEST_PG_PASSWORD,
  },
  {
    action: 'migrate',
    what: 'dir: ../outside, a folder outside the workspace (#18.6)',
    database: true,
    inputs: (s) => ({ ...dbInputs(s), dir: '../outside' }),
    names: 'input "dir"',
    expected: /the migrations folder \.\.\/outside is outside the workspace/,
    secret: TEST_PG_PASSWORD,
  },
  {
    action: 'migrate',
    what: 'backup-dir: /proc/x, which cannot be made (#18.7), checked before the lock',
    database: true,
    inputs: (s) => ({ ...dbInputs(s), backup: 'true', 'backup-dir': '/proc/slipway-x' }),
    names: 'input "backup-dir"',
    expected: /cannot create \/proc\/slipway-x: ENOENT/,
    secret: TEST_PG_PASSWORD,
  },
  {
    action: 'migrate',
    what: 'resolve: "2 maybe" (#18.3)',
    database: true,
    inputs: (s) => ({ ...dbInputs(s), resolve: '2 maybe' }),
    names: 'input "resolve"',
    expected: /expected "<version> applied" or "<version> pending"/,
    secret: TEST_PG_PASSWORD,
  },
  {
    action: 'migrate',
    what: 'format: sideways',
    database: true,
    inputs: (s) => ({ ...dbInputs(s), format: 'sideways' }),
    names: 'input "format"',
    expected: /expected auto, slipway, golang-migrate, goose, dbmate, flyway, prisma/,
    secret: TEST_PG_PASSWORD,
  },
  {
    action: 'migrate',
    what: 'target: abc',
    database: true,
    inputs: (s) => ({ ...dbInputs(s), target: 'abc' }),
    names: 'input "target"',
    expected: /expected a (migration )?version/,
    secret: TEST_PG_PASSWORD,
  },
  {
    action: 'deploy',
    what: 'version: not-semver',
    inputs: () => ({ ...BASE.deploy, version: 'not semver!' }),
    names: 'input "version"',
    expected: /expected a version/,
    secret: TOKEN,
  },
  {
    action: 'deploy',
    what: 'a token GitHub refuses',
    inputs: () => ({ ...BASE.deploy, token: WRONG_TOKEN }),
    names: 'check the token input',
    expected: /GitHub API: GET \/repos\/[^ ]+\/deployments failed with 401: Bad credentials/,
    secret: WRONG_TOKEN,
  },
  {
    action: 'deploy',
    what: 'allow-downgrade: maybe',
    inputs: () => ({ ...BASE.deploy, 'allow-downgrade': 'maybe' }),
    names: 'input "allow-downgrade"',
    expected: /expected (a boolean|true or false|one of)/,
    secret: TOKEN,
  },
  {
    action: 'deploy',
    what: 'force-unlock: please',
    inputs: () => ({ ...BASE.deploy, 'force-unlock': 'please' }),
    names: 'input "force-unlock"',
    expected: /expected (a boolean|true or false|one of)/,
    secret: TOKEN,
  },
  {
    action: 'deploy',
    what: 'components: [broken',
    inputs: () => ({ ...BASE.deploy, components: '[broken' }),
    names: 'input "components"',
    expected: /expected "all" or a JSON array of component names/,
    secret: TOKEN,
  },
  {
    action: 'deploy',
    what: 'an unknown environment',
    inputs: () => ({ ...BASE.deploy, environment: 'moon' }),
    names: 'input "environment"',
    expected: /expected one of staging|staging/,
    secret: TOKEN,
  },
  {
    action: 'deploy',
    what: 'a component not in the policy',
    inputs: () => ({ ...BASE.deploy, components: '["api","ghost"]' }),
    names: 'input "components"',
    expected: /ghost.*(expected|one of).*api/,
    secret: TOKEN,
  },
  {
    action: 'smoke-test',
    what: 'malformed checks YAML',
    inputs: () => ({ checks: '- name: home\n  http: http://127.0.0.1:9/\n expect: { status: 200 }\n' }),
    names: 'input "checks"',
    expected: /line 3|:3:/,
  },
  {
    action: 'smoke-test',
    what: 'a check with no kind',
    inputs: () => ({ checks: '- name: home\n  expect: { status: 200 }\n' }),
    names: 'input "checks"',
    expected: /expected .*http/,
  },
  {
    action: 'smoke-test',
    what: 'timeout: soon',
    inputs: () => ({ ...BASE['smoke-test'], timeout: 'soon' }),
    names: 'input "timeout"',
    expected: /expected a duration/,
  },
  {
    action: 'smoke-test',
    what: 'concurrency: 0',
    inputs: () => ({ ...BASE['smoke-test'], concurrency: '0' }),
    names: 'input "concurrency"',
    expected: /expected a whole number of at least 1/,
  },
  {
    action: 'tag-release',
    what: 'version: 1.x',
    inputs: () => ({ ...BASE['tag-release'], version: '1.x' }),
    names: 'input "version"',
    expected: /expected a semantic version/,
    secret: TOKEN,
  },
  {
    action: 'tag-release',
    what: 'make-latest: maybe',
    inputs: () => ({ ...BASE['tag-release'], 'make-latest': 'maybe' }),
    names: 'input "make-latest"',
    expected: /expected one of auto, true, false/,
    secret: TOKEN,
  },
  {
    action: 'tag-release',
    what: 'components that are not JSON',
    inputs: () => ({ ...BASE['tag-release'], components: '{api: 1.0.0}' }),
    names: 'input "components"',
    expected:
      /input "components": expected a JSON object of component → \{version, release, tag\} \(version-bump's components output\), but it is not valid JSON/,
    secret: TOKEN,
  },
  {
    action: 'tag-release',
    what: 'components naming a component not in the policy',
    inputs: () => ({ ...BASE['tag-release'], components: '{"ghost":{"version":"1.0.0","release":true}}' }),
    names: 'input "components"',
    expected: /unknown component "ghost".*expected one of: api/,
    secret: TOKEN,
  },
  {
    action: 'tag-release',
    what: 'a target that is not a commit',
    inputs: () => ({ ...BASE['tag-release'], target: 'deadbeef' }),
    names: 'input "target"',
    expected: /expected a commit/,
    secret: TOKEN,
  },
  {
    action: 'pipeline',
    what: 'mode: sideways',
    inputs: () => ({ ...BASE.pipeline, mode: 'sideways' }),
    names: 'input "mode"',
    expected: /expected one of main, release, hotfix, rollback/,
    secret: TOKEN,
  },
];

/** Lines that betray an uncaught error: a stack frame or a Node internal error's name. */
const INTERNAL = [/^\s+at /, /\bTypeError\b/, /\bReferenceError\b/, /Cannot read properties/, /internal error/];

function lines(run: ActionRun): string[] {
  return [...run.stdout.split('\n'), ...run.stderr.split('\n')];
}

/** The properties of a workflow command line: `::error file=a,line=3::msg` → {file: 'a', line: '3'}. */
function properties(line: string): Record<string, string> {
  const m = /^::error(?: ([^:]*))?::/.exec(line);
  const out: Record<string, string> = {};
  for (const kv of (m?.[1] ?? '').split(',').filter(Boolean)) {
    const eq = kv.indexOf('=');
    out[kv.slice(0, eq)] = decodeURIComponent(kv.slice(eq + 1));
  }
  return out;
}

describe.each([...policyCases, ...inputCases, ...hostileCases])('$action with $what', (c) => {
  it('fails with one line naming the input and what was expected; no stack, no secret, no change', async () => {
    const repo = c.emptyRepo ? createRepo() : product(c.policy === undefined ? GOOD_POLICY : c.policy);
    try {
      const setup: Setup = { repo, database: c.database ? postgres.createDatabase() : undefined };
      const before = snapshot(repo);
      const tablesBefore = setup.database ? await tables(setup.database) : [];
      const requestsBefore = gh.requests.length;

      const run = await runBundledAction(c.action, {
        cwd: repo.dir,
        inputs: c.inputs(setup),
        env: {
          GITHUB_API_URL: gh.url,
          GITHUB_REF: 'refs/heads/main',
          GITHUB_SHA: c.emptyRepo ? '' : repo.head(),
          SLIPWAY_RETRY_BASE_MS: '1',
          ...c.env?.(setup),
        },
        event: c.emptyRepo ? {} : { before: repo.git('rev-parse', 'HEAD~1').trim() },
      });

      const errors = errorLines(run);
      // One line a person reads: a hostile input is never echoed whole.
      expect(errors.join('').length).toBeLessThan(600);
      if (c.noRetry) expect(run.stdout).not.toMatch(/attempt \d+ in \d+ ms/);
      expect({ code: run.code, errors }).toEqual({ code: 1, errors: [expect.any(String)] });
      const [error] = errors;
      expect(error).toContain(typeof c.names === 'string' ? c.names : c.names(setup));
      expect(error).toMatch(c.expected);
      const props = properties(error);
      if (c.at) expect(props).toMatchObject({ file: c.at.file, line: String(c.at.line) });
      // An annotation's file is one the runner can show: a path in the repository, not an input's name.
      if (props.file)
        expect(readdirSync(path.dirname(path.join(repo.dir, props.file)))).toContain(path.basename(props.file));
      expect(lines(run).filter((l) => INTERNAL.some((re) => re.test(l)))).toEqual([]);
      if (c.secret)
        expect(lines(run).filter((l) => l.includes(c.secret!) && !l.startsWith('::add-mask::'))).toEqual([]);
      if (c.secret) expect(run.summary + JSON.stringify(run.outputs)).not.toContain(c.secret);

      expect(snapshot(repo)).toEqual(before);
      if (setup.database) expect(await tables(setup.database)).toEqual(tablesBefore);
      const writes = gh.requests.slice(requestsBefore).filter((r) => r.method !== 'GET');
      expect(writes).toEqual([]);
    } finally {
      repo.cleanup();
    }
  }, 60_000);
});

describe('the checks above can fail', () => {
  it('a good deploy changes the snapshot (the ledger, the deploy log); a good tag-release writes to GitHub', async () => {
    const repo = product();
    try {
      const before = snapshot(repo);
      const env = { GITHUB_API_URL: gh.url, GITHUB_REF: 'refs/heads/main', GITHUB_SHA: repo.head() };
      const deployed = await runBundledAction('deploy', {
        cwd: repo.dir,
        inputs: { environment: 'staging', version: '1.1.0' },
        env,
      });
      expect(errorLines(deployed)).toEqual([]);
      expect(snapshot(repo)).not.toEqual(before);

      gh.state.repo().importGit(repo.dir);
      const requestsBefore = gh.requests.length;
      const released = await runBundledAction('tag-release', { cwd: repo.dir, inputs: BASE['tag-release'], env });
      expect(errorLines(released)).toEqual([]);
      expect(gh.requests.slice(requestsBefore).filter((r) => r.method !== 'GET')).not.toEqual([]);
    } finally {
      repo.cleanup();
    }
  }, 60_000);
});
