/** SLIPWAY_SECRETS: the reusable workflows' secrets turned back into environment variables, masked first. */
import { afterAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { isUserError } from '../../src/core/errors.js';
import { SecretMasker } from '../../src/core/secrets.js';
import { applySecretsEnv } from '../../src/core/secrets-env.js';
import { createRepo } from '../helpers/git-repo.js';
import { errorLines, runBundledAction } from '../helpers/run-action.js';

describe('applySecretsEnv', () => {
  it('sets each secret not already set, skips github_token, masks every value first, and removes the bundle', () => {
    const masked: string[] = [];
    const env: NodeJS.ProcessEnv = {
      SLIPWAY_SECRETS: JSON.stringify({
        DATABASE_URL: 'postgres://app:pw-123@db/shop',
        SLACK_WEBHOOK: 'https://hooks.example/T1/B2',
        KEEP: 'from-secrets',
        github_token: 'ghs_from_secrets',
        'not a name': 'value-xyz',
      }),
      KEEP: 'from-step',
    };
    const set = applySecretsEnv(env, (s) => {
      // Masked before any variable is set.
      expect(env.DATABASE_URL).toBeUndefined();
      masked.push(s);
    });
    expect(set).toEqual(['DATABASE_URL', 'SLACK_WEBHOOK']);
    expect(env.DATABASE_URL).toBe('postgres://app:pw-123@db/shop');
    expect(env.KEEP).toBe('from-step');
    expect(env.github_token).toBeUndefined();
    expect(env.GITHUB_TOKEN).toBeUndefined();
    expect(env['not a name']).toBeUndefined();
    expect(env.SLIPWAY_SECRETS).toBeUndefined();
    expect(masked).toEqual(
      expect.arrayContaining([
        'postgres://app:pw-123@db/shop',
        'https://hooks.example/T1/B2',
        'from-secrets',
        'ghs_from_secrets',
        'value-xyz',
      ]),
    );
    // A second call (the pipeline's child env after the runner's) finds nothing to do.
    expect(applySecretsEnv(env, () => undefined)).toEqual([]);
  });

  it('reads NAME=value lines too, masking every value, and names a bad line by its number only', () => {
    const masked: string[] = [];
    const env: NodeJS.ProcessEnv = {
      SLIPWAY_SECRETS: [
        '# staging',
        'DATABASE_URL=postgres://app:pw-9@db/shop',
        '',
        'export SLACK_WEBHOOK="https://hooks.example/T1/B2"',
        "EMPTY=''",
      ].join('\n'),
    };
    expect(applySecretsEnv(env, (s) => masked.push(s))).toEqual(['DATABASE_URL', 'SLACK_WEBHOOK', 'EMPTY']);
    expect(env.SLACK_WEBHOOK).toBe('https://hooks.example/T1/B2');
    expect(env.EMPTY).toBe('');
    expect(masked).toEqual(expect.arrayContaining(['postgres://app:pw-9@db/shop', 'https://hooks.example/T1/B2']));
    expect(() => applySecretsEnv({ SLIPWAY_SECRETS: 'A=1\nhunter22 no equals' }, () => undefined)).toThrow(
      /^SLIPWAY_SECRETS: expected a JSON object of secret names to values, or NAME=value lines; line 2 is neither$/,
    );
  });

  it('does nothing without SLIPWAY_SECRETS or with an empty one', () => {
    expect(applySecretsEnv({}, () => undefined)).toEqual([]);
    expect(applySecretsEnv({ SLIPWAY_SECRETS: ' ' }, () => undefined)).toEqual([]);
  });

  it.each([
    ['{"DATABASE_URL": "postgres://u:hunter22@h/db"', /is not valid JSON$/],
    ['["hunter22-in-an-array"]', /got an array$/],
    ['"hunter22"', /got a string$/],
  ])('rejects %s in one line that never shows the value', (raw, expected) => {
    const masker = new SecretMasker();
    let thrown: unknown;
    try {
      applySecretsEnv({ SLIPWAY_SECRETS: raw }, (s) => masker.add(s));
    } catch (e) {
      thrown = e;
    }
    expect(isUserError(thrown)).toBe(true);
    const message = (thrown as Error).message;
    expect(message).toMatch(/^SLIPWAY_SECRETS: expected a JSON object/);
    expect(message).toMatch(expected);
    expect(message).not.toContain('hunter22');
    expect(message).not.toContain('\n');
    expect(masker.redact(`raw: ${raw}`)).toBe('raw: ***');
  });
});

describe('the bundled deploy action with SLIPWAY_SECRETS', () => {
  const repo = createRepo();
  afterAll(() => repo.cleanup());
  const databaseUrl = 'postgres://app:Sup3r-s3cret@db.internal:5432/shop';
  const token = 'deploy-token-7c1f9a';
  repo.commit('a product', {
    '.github/slipway.yml': stringify({
      components: {
        api: {
          deploy: {
            run: [
              'printf "%s\\n%s\\n%s\\n%s" "$DATABASE_URL" "$DEPLOY_TOKEN" "$KEEP" "${github_token-unset}" > seen.txt',
              'echo "connecting to $DATABASE_URL with $DEPLOY_TOKEN"',
            ].join('; '),
          },
        },
      },
      environments: { staging: {} },
    }),
  });

  it('gives a command target the secrets as variables, and never prints a value except to mask it', async () => {
    const run = await runBundledAction('deploy', {
      cwd: repo.dir,
      env: {
        KEEP: 'from-step',
        SLIPWAY_SECRETS: JSON.stringify({
          DATABASE_URL: databaseUrl,
          DEPLOY_TOKEN: token,
          KEEP: 'from-secrets',
          github_token: 'ghs_not_for_the_env',
        }),
      },
      inputs: { environment: 'staging', version: '1.0.0' },
    });
    expect(errorLines(run)).toEqual([]);
    expect(run.code).toBe(0);
    expect(readFileSync(path.join(repo.dir, 'seen.txt'), 'utf8').split('\n')).toEqual([
      databaseUrl,
      token,
      'from-step',
      'unset',
    ]);
    expect(run.stdout).toContain('connecting to *** with ***');
    for (const secret of [databaseUrl, token, 'Sup3r-s3cret']) {
      const lines = run.stdout.split('\n').filter((l) => l.includes(secret));
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) expect(l).toMatch(/^::add-mask::/);
      expect(run.stderr).not.toContain(secret);
      expect(run.summary).not.toContain(secret);
      expect(JSON.stringify(run.outputs)).not.toContain(secret);
    }
  });

  it('fails in one line on malformed SLIPWAY_SECRETS without echoing it', async () => {
    const run = await runBundledAction('deploy', {
      cwd: repo.dir,
      env: { SLIPWAY_SECRETS: `{"DATABASE_URL": "${databaseUrl}"` },
      inputs: { environment: 'staging', version: '1.0.1' },
    });
    expect(run.code).toBe(1);
    expect(errorLines(run).map((l) => l.replace(/^::error ?::/, ''))).toEqual([
      'SLIPWAY_SECRETS: expected a JSON object of secret names to values, or NAME=value lines, but it is not valid JSON',
    ]);
    for (const l of run.stdout.split('\n').filter((x) => x.includes('Sup3r-s3cret')))
      expect(l).toMatch(/^::add-mask::/);
    expect(run.stderr).not.toContain('Sup3r-s3cret');
  });
});
