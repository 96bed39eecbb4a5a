/** The backup before migrating: its folder checked before the lock, owner-only files, old ones pruned, restorable. */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { KEEP_BACKUPS } from '../../src/migrations/backup.js';
import { restoreBackup } from '../../src/migrations/restore.js';
import { runMigrations, type MigrateOptions } from '../../src/migrations/runner.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

let server: TestPostgres;
let dir: string;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(() => server?.stop());
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'slipway-backup-'));
  mkdirSync(path.join(dir, 'migrations'));
  writeFileSync(path.join(dir, 'migrations', '1_a.sql'), 'CREATE TABLE a (id int);\nINSERT INTO a VALUES (7);\n');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function migrate(url: string, options: Partial<MigrateOptions> = {}, keep?: (file: string) => Promise<string>) {
  const rt = createMemoryRuntime({ cwd: dir, env: { GITHUB_RUN_ID: '5' } });
  const runtime = keep ? { ...rt, keep } : rt;
  return runMigrations({ dir: 'migrations', databaseUrl: url, lockTimeoutMs: 5000, backup: true, ...options }, runtime);
}

test('the dump is readable by its owner only', async () => {
  const result = await migrate(server.createDatabase(), { backupDir: 'backups' });
  expect(statSync(result.backup).mode & 0o777).toBe(0o600);
});

test('off a runner, without backup-dir: the repository’s .slipway/backups, kept out of git; the shared temporary folder is never pruned', async () => {
  // Another project's backups in the system's temporary folder, more than would be kept.
  const shared = mkdtempSync(path.join(tmpdir(), 'slipway-shared-'));
  const theirs = Array.from(
    { length: KEEP_BACKUPS + 1 },
    (_, i) => `slipway-backup-2020010${i}T000000-before-0_x.dump`,
  );
  for (const name of theirs) writeFileSync(path.join(shared, name), 'theirs');
  try {
    const rt = createMemoryRuntime({ cwd: dir, env: { TMPDIR: shared } });
    const result = await runMigrations({ dir: 'migrations', databaseUrl: server.createDatabase(), backup: true }, rt);
    expect(path.dirname(result.backup)).toBe(path.join(dir, '.slipway', 'backups'));
    expect(readdirSync(path.join(dir, '.slipway', 'backups')).sort()).toEqual(
      ['.gitignore', path.basename(result.backup)].sort(),
    );
    expect(readFileSync(path.join(dir, '.slipway', 'backups', '.gitignore'), 'utf8')).toBe('*\n');
    expect(readdirSync(shared).sort()).toEqual(theirs);
  } finally {
    rmSync(shared, { recursive: true, force: true });
  }
});

test('keeps the newest backups of the folder and deletes older ones, never other files', async () => {
  const backups = path.join(dir, 'backups');
  mkdirSync(backups);
  const old = Array.from({ length: KEEP_BACKUPS + 2 }, (_, i) => `slipway-backup-2020010${i}T000000-before-0_x.dump`);
  for (const name of [...old, 'notes.txt']) writeFileSync(path.join(backups, name), 'x');
  const result = await migrate(server.createDatabase(), { backupDir: 'backups' });
  const left = readdirSync(backups).sort();
  expect(left).toContain(path.basename(result.backup));
  expect(left).toContain('notes.txt');
  expect(left.filter((n) => n.startsWith('slipway-backup-'))).toHaveLength(KEEP_BACKUPS);
  expect(left).not.toContain(old[0]);
});

test('a backup-dir that cannot be made fails at once, in one line, before the lock and before any change', async () => {
  const url = server.createDatabase();
  await expect(migrate(url, { backupDir: '/proc/slipway-x' })).rejects.toThrow(
    /^input "backup-dir": cannot create \/proc\/slipway-x: ENOENT$/,
  );
  writeFileSync(path.join(dir, 'file'), '');
  await expect(migrate(url, { backupDir: 'file/sub' })).rejects.toThrow(
    /^input "backup-dir": .*\/file is not a folder \(expected a folder for the backup\)$/,
  );
  if (process.getuid?.() !== 0) {
    mkdirSync(path.join(dir, 'ro'));
    chmodSync(path.join(dir, 'ro'), 0o500);
    await expect(migrate(url, { backupDir: 'ro' })).rejects.toThrow(/^input "backup-dir": ro is not writable: EACCES$/);
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const tables = (await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows;
  await c.end();
  expect(tables).toEqual([]);
});

test('a backup that cannot be kept beyond the job stops the run before anything is migrated', async () => {
  const url = server.createDatabase();
  const failing = () => Promise.reject(new Error('artifact service unavailable'));
  await expect(migrate(url, { backupDir: 'backups' }, failing)).rejects.toThrow(
    /^backup: .*slipway-backup-.*\.dump was written but could not be kept beyond this job \(artifact service unavailable\); nothing was migrated$/,
  );
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  expect((await c.query("SELECT to_regclass('public.a') AS t")).rows[0].t).toBeNull();
  await c.end();
  const kept = await migrate(url, { backupDir: 'backups' }, async (f) => `kept:${path.basename(f)}`);
  expect(kept.backupLocation).toBe(`kept:${path.basename(kept.backup)}`);
});

test('restore refuses what is not a pg_dump archive, naming it, and restores one into a fresh database', async () => {
  const url = server.createDatabase();
  await migrate(url, { backupDir: 'backups' });
  writeFileSync(path.join(dir, 'migrations', '2_b.sql'), 'UPDATE a SET id = 0;\n');
  const second = await migrate(url, { backupDir: 'backups' });
  const notDump = path.join(dir, 'notes.txt');
  writeFileSync(notDump, 'hello');
  await expect(restoreBackup(notDump, url, { from: 'the variable DATABASE_URL' })).rejects.toThrow(
    /^restore: .*notes\.txt is not a pg_dump custom-format archive/,
  );
  await expect(restoreBackup(path.join(dir, 'missing.dump'), url, { from: 'x' })).rejects.toThrow(/does not exist/);
  const fresh = server.createDatabase();
  expect(existsSync(second.backup)).toBe(true);
  await restoreBackup(second.backup, fresh, { from: 'the variable DATABASE_URL' });
  const c = new pg.Client({ connectionString: fresh });
  await c.connect();
  expect((await c.query('SELECT id FROM a')).rows).toEqual([{ id: 7 }]);
  await c.end();
});

test('restore reaches pg_restore with the password through PGPASSWORD, never its command line, also as ?password=', async () => {
  const url = server.createDatabase();
  await migrate(url, { backupDir: 'backups' });
  // The backup is taken before migrating: the second run's holds what the first made.
  writeFileSync(path.join(dir, 'migrations', '2_b.sql'), 'SELECT 1;\n');
  const made = await migrate(url, { backupDir: 'backups' });
  const fresh = new URL(server.createDatabase());
  const secret = decodeURIComponent(fresh.password);
  fresh.password = '';
  const queryUrl = `${fresh.href}?password=${encodeURIComponent(secret)}`;
  // A pg_restore first on PATH that records what it was given, then runs the real one.
  const bin = mkdtempSync(path.join(tmpdir(), 'slipway-fake-bin-'));
  const record = path.join(bin, 'record');
  const real = execFileSync('sh', ['-c', 'command -v pg_restore'], { encoding: 'utf8' }).trim();
  writeFileSync(
    path.join(bin, 'pg_restore'),
    `#!/bin/sh\n{ for a in "$@"; do printf 'arg %s\\n' "$a"; done; printf 'PGPASSWORD=%s\\n' "$PGPASSWORD"; } > "${record}"\nexec "${real}" "$@"\n`,
  );
  chmodSync(path.join(bin, 'pg_restore'), 0o755);
  const savedPath = process.env.PATH;
  process.env.PATH = `${bin}:${savedPath}`;
  try {
    await restoreBackup(made.backup, queryUrl, { from: 'the variable DATABASE_URL' });
  } finally {
    process.env.PATH = savedPath;
    const seen = readFileSync(record, 'utf8').split('\n');
    rmSync(bin, { recursive: true, force: true });
    const args = seen.filter((l) => l.startsWith('arg ')).join('\n');
    expect(args).not.toContain(secret);
    expect(args).not.toContain('password=');
    expect(seen).toContain(`PGPASSWORD=${secret}`);
  }
  const c = new pg.Client({ connectionString: queryUrl });
  await c.connect();
  expect((await c.query('SELECT id FROM a')).rows).toEqual([{ id: 7 }]);
  await c.end();
});

test('restore puts the grants back as they were, into the same database', async () => {
  const url = server.createDatabase();
  const reader = `reader_${path
    .basename(dir)
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase()}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE ROLE ${reader}`);
  await admin.end();
  writeFileSync(path.join(dir, 'migrations', '1_a.sql'), `CREATE TABLE g (x int);\nGRANT SELECT ON g TO ${reader};\n`);
  await migrate(url, { backupDir: 'backups' });
  writeFileSync(path.join(dir, 'migrations', '2_b.sql'), 'DROP TABLE g;\n');
  const second = await migrate(url, { backupDir: 'backups', allowDestructive: true });
  await restoreBackup(second.backup, url, { from: 'the variable DATABASE_URL' });
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const granted = await c.query(`SELECT has_table_privilege('${reader}', 'g', 'SELECT') AS ok`);
    expect(granted.rows).toEqual([{ ok: true }]);
  } finally {
    await c.end();
  }
});
