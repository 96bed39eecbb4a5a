/**
 * `tool: command`: the project's own migration tool (alembic, prisma, sqitch…) runs instead
 * of the built-in runner, under the same lock and after the same backup, with DATABASE_URL
 * in its environment. Its history table is its own, so Slipway reports no versions.
 */
import { UserError } from '../core/errors.js';
import { runUserCommand } from '../core/exec.js';
import { duration } from '../core/markdown.js';
import type { Runtime } from '../core/runtime.js';
import { backupDirOf, backupLabel, prepareBackupDir, takeBackup } from './backup.js';
import { acquireLock, DEFAULT_LOCK_TIMEOUT_MS } from './lock.js';
import { describeUrl, openServerDatabase, parseDatabaseUrl } from './pg-database.js';
import type { MigrateOptions, MigrationResult } from './runner.js';

/** Run the configured command under the migration lock. */
export async function runCommandTool(options: MigrateOptions, table: string, rt: Runtime): Promise<MigrationResult> {
  const command = options.command?.trim() ?? '';
  if (!command)
    throw new UserError('input "command": tool is command, so a command is required (e.g. alembic upgrade head)');
  if (!options.databaseUrl?.trim())
    throw new UserError(
      'input "database-url": tool: command needs a PostgreSQL URL to give the command as DATABASE_URL',
    );
  const result: MigrationResult = {
    tool: 'command',
    database: describeUrl(parseDatabaseUrl(options.databaseUrl, options.databaseFrom)),
    direction: 'none',
    dryRun: options.dryRun ?? false,
    applied: [],
    pending: 0,
    current: '',
    backup: '',
    backupLocation: '',
    findings: [],
    destructiveApplied: false,
    previouslyApplied: [],
    remaining: [],
  };
  if (options.dryRun) {
    rt.log.info(`Dry run: would run \`${command}\` with DATABASE_URL set, under the migration lock.`);
    return result;
  }
  const db = await openServerDatabase(options.databaseUrl, {
    onRetry: (m) => rt.log.info(m),
    from: options.databaseFrom,
  });
  const backupDir = backupDirOf(options.backupDir, rt);
  // Checked before the lock: a bad folder must fail at once, not with the lock held.
  if (options.backup) await prepareBackupDir(backupDir, options.backupDir?.trim() || backupDir);
  const lock = await acquireLock(db, {
    table,
    timeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    queryTimeoutMs: options.lockQueryTimeoutMs,
    log: (m) => rt.log.info(m),
  });
  try {
    if (options.backup) {
      const backup = await takeBackup(db, backupDir, backupLabel('command'), rt);
      result.backup = backup.file;
      result.backupLocation = backup.kept;
    }
    const run = await rt.log.group(`Migrations: ${command}`, () =>
      runUserCommand(command, {
        cwd: rt.cwd,
        baseEnv: rt.env,
        env: { DATABASE_URL: options.databaseUrl! },
        onLine: (line) => rt.log.info(line),
      }),
    );
    if (run.code !== 0) {
      const tail = rt.redact(run.tail.slice(-3).join(' | '));
      throw new UserError(
        `the migration command \`${command}\` exited with ${run.signal ?? run.code}${tail ? `: ${tail}` : ''}`,
      );
    }
    rt.log.info(`The migration command finished in ${duration(run.durationMs)}.`);
    return result;
  } finally {
    await lock.release();
    await db.close();
  }
}
