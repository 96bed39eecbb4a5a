/**
 * Secrets the policy file names are masked when deploy starts, before any command runs: a
 * deploy command that prints them in its first error line shows *** in the log, the
 * summary, the outputs, the GitHub deployment's status and the notification.
 */
import http from 'node:http';
import { stringify } from 'yaml';
import { policySecretNames } from '../../src/core/policy-secrets.js';
import { parseConfig } from '../../src/core/config.js';
import { maskCredentialVariables } from '../../src/deploy/credential-env.js';
import { startGitHubServer, type GitHubServer } from '../helpers/github-server.js';
import { runBundledAction } from '../helpers/run-action.js';
import { createProduct, type Product } from './fixture.js';

const TOKEN = 'ghs_secretsTestToken0123456789';
const SECRETS = {
  HOOK_URL: '', // the webhook receiver's URL, set below: its path is the secret part
  MIGRATIONS_DB: 'postgres://deployer:pa55-w0rd-db@db.internal:5432/app',
  API_TOKEN: 'tok_live_4c0ffee4c0ffee',
  REDIS_URL: 'redis://:r3d1s-s3cret@cache.internal:6379',
};
let gh: GitHubServer;
let p: Product;
let hook: http.Server;
const received: string[] = [];
beforeAll(async () => {
  hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push(body);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  SECRETS.HOOK_URL = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hooks/T0001/B0002/s3cr3tW3bh00kPath`;
});
afterAll(async () => {
  hook.closeAllConnections();
  await new Promise<void>((r) => hook.close(() => r()));
});
beforeEach(async () => {
  p = await createProduct();
  gh = await startGitHubServer({ token: TOKEN });
  gh.state.repo().importGit(p.dir);
});
afterEach(async () => {
  expect(gh.violations).toEqual([]);
  await gh.stop();
  await p.close();
});

const policy = () => ({
  components: {
    schema: { kind: 'migrations', migrate: { dir: 'migrations', database: { env: 'MIGRATIONS_DB' } } },
    cache: { kind: 'data', health: [{ redis: { env: 'REDIS_URL' } }] },
    api: {
      deploy: { run: 'echo "cannot deploy: $HOOK_URL $MIGRATIONS_DB $API_TOKEN $REDIS_URL" >&2; exit 3' },
      health: [{ http: '/health/api', headers: { Authorization: 'Bearer ${API_TOKEN}' } }],
    },
  },
  environments: { staging: { url: p.url } },
  notify: [{ kind: 'webhook', webhook: { env: 'HOOK_URL' }, events: ['deploy-failed'] }],
});

test('policySecretNames finds every { env } and the ${VAR} of a sensitive header', () => {
  const config = parseConfig(stringify(policy()), 'slipway.yml');
  expect(policySecretNames(config)).toEqual(['API_TOKEN', 'HOOK_URL', 'MIGRATIONS_DB', 'REDIS_URL']);
});

test("a deploy command's early error never shows a secret the policy names", async () => {
  p.writeConfig(stringify(policy()));
  received.length = 0;
  const run = await runBundledAction('deploy', {
    cwd: p.dir,
    env: {
      ...SECRETS,
      GITHUB_API_URL: gh.url,
      GITHUB_SHA: p.repo.head(),
      GITHUB_REF_NAME: 'main',
      SLIPWAY_RETRY_BASE_MS: '1',
    },
    inputs: { environment: 'staging', version: '1.0.0', components: '["api"]', token: TOKEN },
  });
  expect(run.code).toBe(1);
  expect(run.outputs.status).toBe('failed');
  // The command did print them; what anyone sees of it is ***.
  expect(run.stdout).toMatch(/cannot deploy: \*\*\* \*\*\* \*\*\* \*\*\*/);
  expect(received).toHaveLength(1);
  const d = gh.state.repo().deployments[0];
  const shown = {
    log: run.stdout
      .split('\n')
      .filter((l) => !l.startsWith('::add-mask::'))
      .join('\n'),
    stderr: run.stderr,
    summary: run.summary,
    outputs: JSON.stringify(run.outputs),
    github: JSON.stringify(gh.requests.map((r) => r.body)) + JSON.stringify(d.statuses),
    notification: received.join('\n'),
  };
  expect(shown.github).toMatch(/cannot deploy: \*\*\*/);
  expect(shown.notification).toMatch(/cannot deploy: \*\*\*/);
  for (const [where, text] of Object.entries(shown))
    for (const [name, value] of Object.entries(SECRETS)) {
      const parts = [value, URL.canParse(value) ? new URL(value).password : ''].filter((v) => v.length >= 3);
      for (const part of parts)
        expect({ where, name, leaked: text.includes(part) }).toEqual({ where, name, leaked: false });
    }
});

test('a credential passed in a plain env: (not named by the policy) never reaches the record, the notification or the outputs', async () => {
  const plain = {
    DEPLOY_TOKEN: 'dtok_plainEnv_9f8e7d6c5b4a',
    REGISTRY_PASSWORD: 'hunter2-registry',
    // Not a credential by its name, but a URL with a password: the password is masked.
    CACHE_URL: 'redis://cache:c4che-pa55@cache.internal:6379',
  };
  p.writeConfig(
    stringify({
      components: {
        api: {
          deploy: {
            run: 'echo "login failed: $DEPLOY_TOKEN $REGISTRY_PASSWORD c4che-pa55 mode=$DEPLOY_KEY_MODE" >&2; exit 3',
          },
        },
      },
      environments: { staging: { url: p.url } },
      notify: [{ kind: 'webhook', webhook: { env: 'HOOK_URL' }, events: ['deploy-failed'] }],
    }),
  );
  received.length = 0;
  const run = await runBundledAction('deploy', {
    cwd: p.dir,
    env: {
      ...plain,
      // A short, plain value under a credential-like name is a setting, and stays readable.
      DEPLOY_KEY_MODE: 'fast',
      HOOK_URL: SECRETS.HOOK_URL,
      GITHUB_API_URL: gh.url,
      GITHUB_SHA: p.repo.head(),
      GITHUB_REF_NAME: 'main',
      SLIPWAY_RETRY_BASE_MS: '1',
    },
    inputs: { environment: 'staging', version: '1.0.0', token: TOKEN },
  });
  expect(run.code).toBe(1);
  const d = gh.state.repo().deployments[0];
  const github = JSON.stringify(gh.requests.map((r) => r.body)) + JSON.stringify(d.statuses);
  expect(d.statuses.at(-1)?.description).toMatch(/login failed: \*\*\* \*\*\* \*\*\* mode=fast/);
  expect(received.join('\n')).toMatch(/login failed: \*\*\* \*\*\* \*\*\* mode=fast/);
  const shown = {
    github,
    notification: received.join('\n'),
    outputs: JSON.stringify(run.outputs),
    summary: run.summary,
  };
  for (const [where, text] of Object.entries(shown))
    for (const secret of [plain.DEPLOY_TOKEN, plain.REGISTRY_PASSWORD, 'c4che-pa55'])
      expect({ where, leaked: text.includes(secret) }).toEqual({ where, leaked: false });
});

test('which variables count as credentials by their name', () => {
  const masked: string[] = [];
  const names = maskCredentialVariables({
    env: {
      DEPLOY_TOKEN: 'a-long-token-value',
      npm_config__authToken: 'npm_abcdef123456',
      API_KEY: 'k-1234567890',
      APIKEY: 'k-0987654321',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG',
      DB_PASSWD: 'pa55word!',
      SSH_PRIVATE_KEY: '-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\n-----END KEY-----',
      DATABASE: 'postgres://app:s3cret-pw@db:5432/app',
      // Not credentials: where one is, a setting, too short, a flag, a number, other names.
      SSH_KEY_PATH: '/home/me/.ssh/id_ed25519',
      CACHE_KEY: 'true',
      MY_TOKEN: 'abc',
      RETRY_KEY: '12345678',
      KEYBOARD_LAYOUT: 'us-international',
      MONKEY_WRENCH_SIZE: 'x',
      HOME: '/home/me',
    },
    mask: (s) => {
      if (s) masked.push(s);
    },
  });
  expect(names).toEqual([
    'APIKEY',
    'API_KEY',
    'AWS_SECRET_ACCESS_KEY',
    'DATABASE',
    'DB_PASSWD',
    'DEPLOY_TOKEN',
    'SSH_PRIVATE_KEY',
    'npm_config__authToken',
  ]);
  expect(masked).toContain('MIIEvQIBADANBgkqhkiG9w0BAQEF');
  expect(masked).not.toContain('/home/me/.ssh/id_ed25519');
});
