/** The embedded default: without database-url, the CLI's migrate runs on a PGlite folder. */
import { afterAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inputVariable, parseInputs } from '../../src/core/inputs.js';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { EMBEDDED_FOLDER, migrateLocally, openEmbeddedDatabase } from '../../src/migrations/local.js';
import { migrate } from '../../src/migrations/migrate.js';

const dir = mkdtempSync(path.join(tmpdir(), 'slipway-embedded-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runLocal(inputs: Record<string, string>) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(inputs)) env[inputVariable(k)] = v;
  const rt = createMemoryRuntime({ cwd: dir, env });
  await migrateLocally(parseInputs(migrate.inputs, env, rt), rt);
  return rt;
}

describe('the embedded PGlite default', () => {
  it('applies into .slipway/db, remembers it across runs, backs it up, and lints the same way', async () => {
    mkdirSync(path.join(dir, 'migrations'));
    writeFileSync(
      path.join(dir, 'migrations/001_orders.sql'),
      'CREATE TABLE orders (id serial PRIMARY KEY, total int);\n',
    );
    writeFileSync(
      path.join(dir, 'migrations/002_status.sql'),
      "ALTER TABLE orders ADD COLUMN status text DEFAULT 'new';\n",
    );

    const first = await runLocal({ backup: 'true', 'backup-dir': 'backups' });
    expect(first.text()).toContain(`using the embedded database in ${path.join(dir, EMBEDDED_FOLDER)}`);
    expect(JSON.parse(first.outputs.applied).map((a: { version: string }) => a.version)).toEqual(['001', '002']);
    expect(first.outputs.current).toBe('2');
    expect(first.outputs.backup).toMatch(/backups\/slipway-backup-\d{8}T\d{6}-before-001_orders\.tar\.gz$/);
    expect(statSync(first.outputs.backup).size).toBeGreaterThan(1000);

    writeFileSync(path.join(dir, 'migrations/003_drop.sql'), 'ALTER TABLE orders DROP COLUMN total;\n');
    await expect(runLocal({})).rejects.toThrow(/^migrations\/003_drop\.sql:1: 1 destructive statement/);

    const db = await openEmbeddedDatabase(path.join(dir, EMBEDDED_FOLDER));
    try {
      const session = await db.connect('test');
      const rows = await session.query<{ version: string; applied_by: string }>(
        'SELECT version::text AS version FROM slipway_migrations ORDER BY slipway_migrations.version',
      );
      expect(rows.map((r) => r.version)).toEqual(['1', '2']);
    } finally {
      await db.close();
    }
    expect(existsSync(path.join(dir, EMBEDDED_FOLDER, 'PG_VERSION'))).toBe(true);
  }, 60_000);
});
