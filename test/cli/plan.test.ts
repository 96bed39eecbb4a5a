/**
 * `slipway plan` as a user runs it (the CLI as a subprocess): the migration history it
 * really reads (none opened when there is none, the server in DATABASE_URL when set, none
 * for tool: command), the deploy and smoke sections when nothing is selected, and a
 * non-zero exit when a step failed; and, in-process, the environments it checks before running.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { command as planCommand } from '../../src/cli/plan.js';
import type { Terminal } from '../../src/cli/terminal.js';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { FileLedger } from '../../src/deploy/record/file-ledger.js';
import { createRepo } from '../helpers/git-repo.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { ROOT } from '../helpers/run-action.js';

const POLICY = [
  'components:',
  '  schema: { kind: migrations, migrate: { dir: db } }',
  '  api: { paths: [api/**], dependsOn: [schema], deploy: { run: "true" }, health: [ { http: "http://127.0.0.1:9/h" } ] }',
  'environments:',
  '  staging: {}',
  '',
].join('\n');

function plan(dir: string, env: Record<string, string> = {}, ...args: string[]) {
  const base: NodeJS.ProcessEnv = { ...process.env, CI: 'true', GITHUB_REF: '', GITHUB_HEAD_REF: '' };
  delete base.DATABASE_URL;
  delete base.SLIPWAY_EMBEDDED_DB;
  return spawnSync(process.execPath, [path.join(ROOT, 'bin/slipway.js'), 'plan', ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...base, ...env },
  });
}

/** Record a successful deployment in the repository's ledger, as a real `slipway deploy` would have. */
async function recordDeploy(dir: string, environment: string, sha: string, versions: Record<string, string>) {
  const ledger = new FileLedger(dir);
  const log = createMemoryRuntime().log;
  const request = {
    environment,
    task: 'deploy' as const,
    ref: 'main',
    sha,
    versions,
    creator: 'test',
    description: 'deploy',
  };
  const entry = await ledger.begin(request, { timeoutMs: 1000, ttlMs: 60_000, log });
  await ledger.finish(entry.id, { state: 'success', description: 'deployed' });
}

/** `slipway plan` through the CLI's main in this process: its exit code and what it wrote. */
async function planInProcess(dir: string): Promise<{ status: number; stdout: string; stderr: string }> {
  const written = { stdout: '', stderr: '' };
  const capture = (stream: 'stdout' | 'stderr') =>
    jest.spyOn(process[stream], 'write').mockImplementation((chunk: string | Uint8Array) => {
      written[stream] += String(chunk);
      return true;
    });
  const spies = [capture('stdout'), capture('stderr')];
  try {
    const status = await main(['plan', '--cwd', dir]);
    return { status, ...written };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(() => server?.stop());

describe('slipway plan: the history it reads', () => {
  const app = createRepo();
  afterAll(() => app.cleanup());
  app.commit('feat: schema and api', {
    '.github/slipway.yml': POLICY,
    'db/001_orders.sql': 'CREATE TABLE orders (id int, note text);\n',
    'db/002_drop.sql': 'ALTER TABLE orders DROP COLUMN note;\n',
    'api/a.txt': 'a',
  });

  it('opens no database when there is none to read: the history is empty', () => {
    const r = plan(app.dir, {}, '--verbose');
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(
      'Migration history: DATABASE_URL is not set and there is no embedded database in .slipway/db: nothing applied yet (no database opened).',
    );
    // The migrate step says which database it used: the empty stand-in, not PGlite.
    expect(r.stderr).toContain(
      'No database-url: using the embedded database in .slipway/db (none yet: nothing applied, not opened).',
    );
    // orders is created by the same run, so dropping its column breaks nothing that runs.
    expect(r.stdout).toMatch(/^migrations schema: 2 pending; lint clean$/m);
    expect(app.git('status', '--porcelain', '--ignored', '--untracked-files=all')).toBe('');
  }, 60_000);

  it('reads the history from the server in DATABASE_URL when it is set, and says so', () => {
    const url = server.createDatabase();
    // The first migration applied by a real run, as CI would have done.
    const first = spawnSync(process.execPath, [path.join(ROOT, 'bin/slipway.js'), 'migrate', '--target', '1'], {
      cwd: app.dir,
      encoding: 'utf8',
      env: { ...process.env, CI: 'true', DATABASE_URL: url },
    });
    expect(first.status).toBe(0);
    const r = plan(app.dir, { DATABASE_URL: url });
    // The pending drop-column is destructive: a real run would stop there, so the plan fails.
    expect(r.status).toBe(1);
    const where = new URL(url);
    expect(r.stderr).toContain(
      `Migration history: read from the database in DATABASE_URL (${where.hostname}:${where.port}${where.pathname}).`,
    );
    expect(r.stderr).not.toContain(where.password);
    expect(r.stdout).toMatch(
      /^migrations schema: a real run would stop here: db\/002_drop\.sql:1: .*\(1 pending; lint: db\/002_drop\.sql:1 drop-column\)$/m,
    );
  }, 60_000);

  it('says a DATABASE_URL that is no postgres:// URL is not one, and never prints its parts', () => {
    // "user:pw@host" parses as a URL of scheme "user" whose path holds the password.
    const r = plan(app.dir, { DATABASE_URL: 'app:s3cretPW@db.internal:5432/shop' });
    expect(r.stderr).toContain(
      'Migration history: DATABASE_URL is set but is not a postgres:// URL; the migrations step below says why.',
    );
    expect(`${r.stdout}${r.stderr}`).not.toContain('s3cretPW');
  }, 60_000);
});

describe('slipway plan: what it says it did', () => {
  it('with tool: command, says that the tool keeps its own history and nothing was counted or linted', () => {
    const app = createRepo();
    try {
      app.commit('feat: schema', {
        '.github/slipway.yml': POLICY.replace(
          'migrate: { dir: db }',
          'migrate: { dir: db, tool: command, command: "alembic upgrade head" }',
        ),
        'db/001_orders.sql': 'DROP TABLE everything;\n',
        'api/a.txt': 'a',
      });
      const r = plan(app.dir);
      expect(r.status).toBe(0);
      expect(r.stderr).toContain(
        "Migration history: kept by the project's own tool (tool: command); Slipway reads none.",
      );
      expect(r.stdout).toContain(
        'migrations schema: tool: command: would run `alembic upgrade head`; its own history, so no pending count and no lint',
      );
      expect(r.stdout).not.toContain('lint clean');
    } finally {
      app.cleanup();
    }
  }, 60_000);

  it('with nothing selected, still shows each environment’s deploy and smoke sections', () => {
    const app = createRepo();
    try {
      app.commit('feat: api', { '.github/slipway.yml': POLICY, 'db/001_orders.sql': 'SELECT 1;\n', 'api/a.txt': 'a' });
      app.tag('v0.1.0');
      app.tag('schema-v0.1.0');
      app.tag('api-v0.1.0');
      const r = plan(app.dir);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('build: nothing changed');
      expect(r.stdout).toContain('deploy staging: nothing selected: no component changed, so nothing would deploy');
      expect(r.stdout).toContain(
        'smoke-test staging: would run 1 check(s): http api: http://127.0.0.1:9/h (dry run: nothing contacted)',
      );
    } finally {
      app.cleanup();
    }
  }, 60_000);

  it('exits non-zero when a step found an error, naming it in one line, after printing the whole plan', () => {
    const app = createRepo();
    try {
      app.commit('feat: api', {
        '.github/slipway.yml': POLICY,
        'db/001_orders.sql': 'CREATE TABLE orders (id int);\n\nCREATE TABEL oops (id int);\n',
        'api/a.txt': 'a',
      });
      const r = plan(app.dir);
      expect(r.status).toBe(1);
      expect(r.stdout).toContain(
        'migrations schema: db/001_orders.sql:3: syntax error at or near "TABEL" (PostgreSQL\'s parser rejects this statement; nothing was run)',
      );
      expect(r.stdout).toContain('deploy staging: wave 1');
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
      expect(errors).toEqual([
        'error: plan: migrations schema failed: db/001_orders.sql:3: syntax error at or near "TABEL" (PostgreSQL\'s parser rejects this statement; nothing was run)',
      ]);
    } finally {
      app.cleanup();
    }
  }, 60_000);

  it('shows a deploy a real run would refuse (a downgrade) as failed, still shows the rest, and exits 1', async () => {
    const app = createRepo();
    try {
      app.commit('feat: api', {
        '.github/slipway.yml': [
          'environments:',
          '  staging: {}',
          '  production: { after: staging }',
          'components:',
          '  api: { paths: [api/**], deploy: { run: "true" }, health: [ { http: "http://127.0.0.1:9/h" } ] }',
          '',
        ].join('\n'),
        'api/a.txt': 'a',
      });
      // Staging runs api 1.0.0; this commit's version is 0.1.0, which a real deploy refuses.
      await recordDeploy(app.dir, 'staging', app.head(), { api: '1.0.0' });
      // The CLI in-process (the subprocess runs dist/, which this source change has not rebuilt).
      const r = await planInProcess(app.dir);
      const refusal =
        'refusing to deploy to staging: api 0.1.0 is older than the 1.0.0 it runs (to go back on purpose use rollback: true with to-version, or set allow-downgrade: true)';
      expect(r.stderr).toContain(`\n✘ deploy staging: a real run would stop here: ${refusal}\n`);
      expect(r.stdout).toContain(`\ndeploy staging: a real run would stop here: ${refusal}\n`);
      // The plan carries on: staging's smoke tests, production (its after: staging is met by this
      // same run, so it is not refused), and the release.
      expect(r.stdout).toContain(
        'smoke-test staging: would run 1 check(s): http api: http://127.0.0.1:9/h (dry run: nothing contacted)',
      );
      expect(r.stderr).toMatch(/^✔ deploy production: wave 1: api \(none\) → 0\.1\.0$/m);
      expect(r.stdout).toContain('smoke-test production: would run 1 check(s)');
      expect(r.stdout).toMatch(/^release: v0\.1\.0 \(dry run: would be created\)/m);
      expect(r.status).toBe(1);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
      expect(errors).toEqual([`error: plan: deploy staging failed: a real run would stop here: ${refusal}`]);
    } finally {
      app.cleanup();
    }
  }, 60_000);
});

describe('slipway plan: the environments it previews', () => {
  const lines: string[] = [];
  const term: Terminal = { tty: false, color: (_c, t) => t, line: (t) => lines.push(t), step: () => ({ end() {} }) };
  const run = (dir: string, flags: Record<string, string> = {}) =>
    planCommand.run({ flags, positional: [], term, cwd: dir });

  it('without environments in the policy file, fails in one line naming the file and its key, before running anything', async () => {
    const app = createRepo();
    try {
      app.commit('feat: api', {
        '.github/slipway.yml': 'components:\n  api: { paths: [api/**], deploy: { run: "true" } }\n',
        'api/a.txt': 'a',
      });
      const error = await run(app.dir).catch((e: unknown) => e as Error);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(
        /^\.github\/slipway\.yml: environments: none defined \(expected [^\n]*\)$/,
      );
      expect((error as Error).message).not.toContain('input');
      expect(lines).toEqual([]);
    } finally {
      app.cleanup();
    }
  });

  it('a misspelt deploy target fails at once, at its line, before version, build or migrations run', async () => {
    const app = createRepo();
    try {
      app.commit('feat: api', {
        '.github/slipway.yml':
          'environments:\n  staging: {}\ncomponents:\n  api:\n    paths: [api/**]\n    deploy: { target: compos, service: api }\n',
        'api/a.txt': 'a',
      });
      lines.length = 0;
      await expect(run(app.dir)).rejects.toThrow(
        /^\.github\/slipway\.yml:6:\d+: components\.api\.deploy\.target: unknown deploy target "compos" \(expected one of: command, release, nginx, compose, kubernetes\)$/,
      );
      expect(lines.filter((l) => /version|build|migrat/.test(l))).toEqual([]);
    } finally {
      app.cleanup();
    }
  });

  it("does not warn that production's after: staging would stop the run: the same run deploys staging first", async () => {
    const app = createRepo();
    try {
      app.commit('feat: api', {
        '.github/slipway.yml':
          'environments:\n  staging: {}\n  production: { after: staging }\ncomponents:\n  api: { paths: [api/**], deploy: { run: "true" } }\n',
        'api/a.txt': 'a',
      });
      lines.length = 0;
      await run(app.dir);
      const text = lines.join('\n');
      expect(text).toMatch(/^✔ deploy staging: wave 1: api \(none\) → 0\.1\.0$/m);
      expect(text).toMatch(/^✔ deploy production: wave 1: api \(none\) → 0\.1\.0$/m);
      expect(text).not.toMatch(/would stop here|have not been deployed successfully to staging|✘/);
      // Asked for production alone, the gate is real: staging has nothing yet, so the plan fails
      // on it, as the real run would, after showing the rest.
      lines.length = 0;
      const refusal =
        /a real run would stop here: refusing to deploy to production: api 0\.1\.0 has not been deployed successfully to staging/;
      await expect(run(app.dir, { environment: 'production' })).rejects.toThrow(
        new RegExp(`^plan: deploy production failed: ${refusal.source}`),
      );
      const alone = lines.join('\n');
      expect(alone).toMatch(/A real run would stop here: refusing to deploy to production/);
      expect(alone).toMatch(new RegExp(`^✘ deploy production: ${refusal.source}`, 'm'));
      expect(alone).toMatch(/^✔ smoke-test production: /m);
      expect(alone).toMatch(/^✔ release: v0\.1\.0/m);
    } finally {
      lines.length = 0;
      app.cleanup();
    }
  });

  it('--event rollback to a version the environment never ran: the rollback is shown failed, with the refusal', async () => {
    const app = createRepo();
    try {
      app.commit('feat: api', {
        '.github/slipway.yml': 'environments:\n  production: {}\ncomponents:\n  api: { deploy: { run: "true" } }\n',
      });
      for (const version of ['1.0.0', '1.1.0']) await recordDeploy(app.dir, 'production', app.head(), { api: version });
      lines.length = 0;
      await expect(run(app.dir, { event: 'rollback', 'to-version': '0.9.0' })).rejects.toThrow(
        /^plan: rollback production failed: a real run would stop here: input "to-version": api never ran 0\.9\.0 on production \(expected a version it ran there: 1\.1\.0, 1\.0\.0;/,
      );
      expect(lines.join('\n')).toMatch(/^✘ rollback production: a real run would stop here: input "to-version"/m);
      expect(lines.join('\n')).toMatch(/^✔ smoke-test production: /m);
    } finally {
      lines.length = 0;
      app.cleanup();
    }
  });

  it('pending migrations a real run would refuse as destructive are shown failed, and the plan exits 1', async () => {
    const app = createRepo();
    const saved = process.env.DATABASE_URL;
    // A database with nothing applied: every file is pending, and the lint is the files' own.
    process.env.DATABASE_URL = server.createDatabase();
    try {
      const policy = (allow: boolean) =>
        [
          'components:',
          `  schema: { kind: migrations, migrate: { dir: db${allow ? ', allowDestructive: true' : ''} } }`,
          '  api: { paths: [api/**], dependsOn: [schema], deploy: { run: "true" } }',
          'environments:',
          '  staging: {}',
          '',
        ].join('\n');
      app.commit('feat: drop the legacy table', {
        '.github/slipway.yml': policy(false),
        'db/001_drop.sql': 'DROP TABLE legacy_orders;\n',
        'api/a.txt': 'a',
      });
      lines.length = 0;
      const stop =
        'a real run would stop here: db/001_drop.sql:1: 1 destructive statement would break the running version (drop-table); nothing would be applied. Once no deployed version depends on what they remove, set migrate.allowDestructive: true on components.schema in the policy file (1 pending; lint: db/001_drop.sql:1 drop-table)';
      await expect(run(app.dir)).rejects.toThrow(`plan: migrations schema failed: ${stop}`);
      expect(lines).toContain(`✘ migrations schema: ${stop}`);
      // The plan carries on to show the rest.
      expect(lines.join('\n')).toMatch(/^✔ deploy staging: wave 1: schema \(none\) → 0\.1\.0/m);

      // Allowed in the policy file for this reviewed change: the finding is listed, not refused.
      app.commit('chore: allow it', { '.github/slipway.yml': policy(true) });
      lines.length = 0;
      await run(app.dir);
      expect(lines).toContain('✔ migrations schema: 1 pending; lint: db/001_drop.sql:1 drop-table');
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
      lines.length = 0;
      app.cleanup();
    }
  });

  it('--event hotfix patches only the series a commit touched, as the hotfix workflow does', async () => {
    const app = createRepo();
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = server.createDatabase();
    try {
      app.commit('feat: all', {
        '.github/slipway.yml': [
          'components:',
          '  schema: { kind: migrations, tag: "schema-v{version}", migrate: { dir: db } }',
          '  api: { paths: [api/**], tag: "api/v{version}", dependsOn: [schema], deploy: { run: "true" } }',
          '  web: { paths: [web/**], series: product, deploy: { run: "true" } }',
          'environments:',
          '  staging: {}',
          '  production: { after: staging }',
          '',
        ].join('\n'),
        'db/001_t.sql': 'CREATE TABLE t (id int);\n',
        'api/a.txt': 'a',
        'web/w.txt': 'w',
      });
      for (const t of ['v1.2.0', 'schema-v0.2.0', 'api/v0.2.0']) app.tag(t);
      app.git('checkout', '-q', '-b', 'hotfix/1.2.1');
      app.commit('fix(web): layout', { 'web/w.txt': 'w2' });
      lines.length = 0;
      await run(app.dir, { event: 'hotfix' });
      const text = lines.join('\n');
      expect(text).toMatch(/^✔ version: 1\.2\.0 → 1\.2\.1 \(patch\)$/m);
      expect(text).toContain('schema: 0.2.0 → 0.2.0 (no commits since schema-v0.2.0)');
      expect(text).toMatch(/^✔ release: v1\.2\.1 \(dry run: would be created\)$/m);
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
      lines.length = 0;
      app.cleanup();
    }
  });

  it('an unknown --environment fails early, in one line listing the known ones', async () => {
    const app = createRepo();
    try {
      app.commit('feat: api', {
        '.github/slipway.yml': `${POLICY}  production: { after: staging }\n`,
        'api/a.txt': 'a',
      });
      await expect(run(app.dir, { environment: 'prod' })).rejects.toThrow(
        /^--environment: unknown environment "prod" in \.github\/slipway\.yml \(expected one of: staging, production\)$/,
      );
      expect(lines).toEqual([]);
    } finally {
      app.cleanup();
    }
  });
});
