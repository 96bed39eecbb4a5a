/** The migrate action's migration-failed notification, from a real PostgreSQL run to a webhook receiver. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { ActionDefinition, InputFields } from '../../src/core/inputs.js';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { migrate as migrateAction } from '../../src/migrations/migrate.js';
import { invokeActionSettled } from '../../src/pipeline/invoke.js';
import { cleanRepos, repo } from '../helpers/migrate-repo.js';
import { startReceivers, type Receivers } from '../helpers/notify-receivers.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

let server: TestPostgres;
let receivers: Receivers;
beforeAll(async () => {
  server = await startPostgres();
  receivers = await startReceivers();
}, 60_000);
afterAll(async () => {
  server?.stop();
  await receivers?.stop();
});
afterEach(() => cleanRepos());

describe('migration-failed from the migrate action', () => {
  it('names the component whose migrations failed', async () => {
    const dir = repo({
      '.github/slipway.yml': [
        'components:',
        '  schema: { kind: migrations, migrate: { dir: migrations, database: { env: DATABASE_URL } } }',
        'notify:',
        '  - { kind: webhook, webhook: { env: OPS_WEBHOOK_URL } }',
        '',
      ].join('\n'),
      'migrations/001_users.sql': 'CREATE TABLE users (id int);\n',
      'migrations/002_broken.sql': 'ALTER TABLE no_such_table ADD COLUMN name text;\n',
    });
    const rt = createMemoryRuntime({
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        GITHUB_RUN_ID: '93',
        DATABASE_URL: server.createDatabase(),
        OPS_WEBHOOK_URL: receivers.url('webhook', 'ops-secret'),
      },
    });
    const settled = await invokeActionSettled(migrateAction as unknown as ActionDefinition<InputFields>, {}, rt);
    expect((settled.error as Error | undefined)?.message).toMatch(/002_broken\.sql/);
    expect(receivers.rejected).toEqual([]);
    const bodies = receivers.accepted.map((a) => a.body);
    expect(bodies).toEqual([
      expect.objectContaining({
        event: 'migration-failed',
        title: 'Migrations of schema failed',
        failedComponent: 'schema',
        text: expect.stringContaining('no_such_table'),
      }),
    ]);
    expect(rt.text()).not.toContain('ops-secret');
  }, 60_000);
});
