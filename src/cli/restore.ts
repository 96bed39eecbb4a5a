/** `slipway restore FILE`: put back the backup a migrate step took, into the database DATABASE_URL names. */
import path from 'node:path';
import { UserError } from '../core/errors.js';
import { restoreBackup } from '../migrations/restore.js';
import type { Command } from './main.js';

export const command: Command = {
  name: 'restore',
  summary: 'Restore a backup taken before migrating (a slipway-backup-*.dump) into a PostgreSQL database.',
  usage: [
    'Usage: slipway restore FILE [--database-env NAME]',
    '',
    'Restores FILE (pg_dump custom format, as migrate and deploy take it) with pg_restore into the',
    'database whose URL is in the environment variable NAME (default DATABASE_URL): the objects it',
    'holds are dropped and recreated, in one transaction. On GitHub, download the backup first:',
    '  gh run download RUN_ID --name slipway-backup-….dump',
  ].join('\n'),
  flags: ['database-env'],
  async run({ flags, positional, cwd, term }) {
    const file = positional[0];
    if (!file) throw new UserError('restore: expected the backup file, e.g. slipway restore slipway-backup-….dump');
    const variable = flags['database-env'] && flags['database-env'] !== 'true' ? flags['database-env'] : 'DATABASE_URL';
    const url = process.env[variable]?.trim();
    if (!url)
      throw new UserError(
        `--database-env: the variable ${variable} is empty (expected the URL of the database to restore into)`,
      );
    const where = await restoreBackup(path.resolve(cwd, file), url, { from: `the variable ${variable}` });
    term.line(`Restored ${file} into ${where}.`);
    return 0;
  },
};
