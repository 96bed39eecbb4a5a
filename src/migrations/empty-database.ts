/**
 * A database known to hold nothing yet, for dry runs: `slipway plan` on a repository with no
 * embedded database and no server has an empty history, and opening PGlite (seconds) to
 * learn that is waste. Reads find no rows; anything that would write is refused, since only
 * a dry run may use it.
 */
import { InternalError } from '../core/errors.js';
import type { Database, DbSession } from './database.js';

/** An empty database described as `where` (what the logs name). */
export function emptyDatabase(where: string): Database {
  const session: DbSession = {
    // No table exists, so every lookup (to_regclass, a history table) finds nothing.
    query: async () => [],
    exec: async (sql) => {
      throw new InternalError(`a dry run's empty database was asked to run SQL: ${sql.slice(0, 80)}`);
    },
    reset: async () => undefined,
    close: async () => undefined,
  };
  return {
    where,
    shared: false,
    connect: async () => session,
    backup: async () => {
      throw new InternalError("a dry run's empty database cannot be backed up");
    },
    close: async () => undefined,
  };
}
