/**
 * The backup a deploy's migrations step takes outlives the job: the bundled action uploads it
 * as an artifact of the run (the runner deletes RUNNER_TEMP with the job, and so does
 * runBundledAction), and `slipway restore` puts it back into a fresh PostgreSQL.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { stringify } from 'yaml';
import { startArtifactServer, type ArtifactServer } from '../helpers/artifact-server.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { runBundledAction } from '../helpers/run-action.js';
import { createProduct, logged, type Product } from './fixture.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
let server: TestPostgres;
let artifacts: ArtifactServer;
let p: Product;
beforeAll(async () => {
  server = await startPostgres();
  artifacts = await startArtifactServer();
  p = await createProduct();
  mkdirSync(path.join(p.dir, 'migrations'));
  writeFileSync(
    path.join(p.dir, 'migrations', '001_orders.sql'),
    'CREATE TABLE orders (id int PRIMARY KEY, total numeric NOT NULL);\nINSERT INTO orders VALUES (1, 19.90), (2, 5.00);\n',
  );
  p.writeConfig(
    stringify({
      components: {
        schema: { kind: 'migrations', migrate: { dir: 'migrations', database: { env: 'APP_DB' } } },
        api: { dependsOn: ['schema'], deploy: { run: logged() } },
      },
      environments: { staging: { url: p.url } },
    }),
  );
}, 60_000);
afterAll(async () => {
  await p?.close();
  await artifacts?.stop();
  await server?.stop();
});

async function rows(url: string): Promise<unknown[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query('SELECT id, total::text FROM orders ORDER BY id')).rows;
  } finally {
    await c.end();
  }
}

test('a deploy backup is uploaded as a run artifact and restores into a fresh database after the job is gone', async () => {
  const url = server.createDatabase();
  const env = { DEPLOY_LOG: `${p.dir}/deploy.log`, APP_DB: url, ...artifacts.env };
  const first = await runBundledAction('deploy', {
    cwd: p.dir,
    env,
    inputs: { environment: 'staging', version: '1.0.0' },
  });
  expect(first.code).toBe(0);

  // The next release's migration destroys data; the backup taken before it is the way back.
  writeFileSync(path.join(p.dir, 'migrations', '002_zero.sql'), 'UPDATE orders SET total = 0;\n');
  const second = await runBundledAction('deploy', {
    cwd: p.dir,
    env,
    inputs: { environment: 'staging', version: '1.1.0' },
  });
  expect(second.code).toBe(0);
  expect(await rows(url)).toEqual([
    { id: 1, total: '0' },
    { id: 2, total: '0' },
  ]);
  const kept = artifacts.artifacts.find((a) => /^slipway-backup-\d{8}T\d{6}-before-002_zero\.dump$/.test(a.name));
  expect(kept?.content?.subarray(0, 5).toString()).toBe('PGDMP');
  // The log names where it is kept: the run's artifact, not the runner's temporary folder.
  expect(second.stdout).toContain(
    `[schema] 1 migration(s) applied, backup https://github.com/acme/shop/actions/runs/1001/artifacts/${kept!.id} (${kept!.name})`,
  );

  // The job is gone (runBundledAction deleted its RUNNER_TEMP); download and restore elsewhere.
  const download = mkdtempSync(path.join(tmpdir(), 'slipway-download-'));
  try {
    writeFileSync(path.join(download, kept!.name), kept!.content!);
    const fresh = server.createDatabase();
    const restored = await promisify(execFile)(
      process.execPath,
      [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), path.join(ROOT, 'src/cli/main.ts'), 'restore', kept!.name],
      { cwd: download, env: { ...process.env, DATABASE_URL: fresh } },
    );
    expect(restored.stderr).toContain(`Restored ${kept!.name} into 127.0.0.1:`);
    expect(await rows(fresh)).toEqual([
      { id: 1, total: '19.90' },
      { id: 2, total: '5.00' },
    ]);
  } finally {
    rmSync(download, { recursive: true, force: true });
  }
}, 120_000);
