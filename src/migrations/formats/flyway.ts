/**
 * Flyway versioned migrations: `V<version>__<description>.sql`, the version numeric parts
 * separated by `.` or `_` and ordered part by part as numbers (1 < 1.1 < 1.2 < 1.10 < 2;
 * 1.0 is 1). `U<version>__…sql` is the undo of the same version: what a down step runs.
 * Sub-folders are read, as Flyway scans its locations. Repeatable (`R__`) migrations,
 * callbacks and Java migrations need Flyway itself.
 * A `<file>.conf` with `executeInTransaction=false` runs the file outside a transaction.
 */
import { UserError } from '../../core/errors.js';
import { cannotRunInTransaction, ignorable, needsTool, notAMigration } from './common.js';
import type { FolderEntry, MigrationFormat, ParsedMigration, Part } from './types.js';

const NAME = /^([VU])(\d+(?:[._]\d+)*)__(.+)\.sql$/;
const CALLBACK = /^(before|after)[A-Za-z]*(__.*)?\.sql$/;

export const flywayFormat: MigrationFormat = {
  name: 'flyway',
  tool: 'flyway',
  command: 'flyway -url=jdbc:postgresql://… -locations=filesystem:<dir> migrate',
  noTransactionHint: 'executeInTransaction=false, or a statement that cannot run in one',
  noTransactionAdvice: 'set executeInTransaction=false in its .sql.conf',
  async parse(entries, read) {
    const ups = new Map<bigint, ParsedMigration>();
    const undos = new Map<bigint, Part & { versionText: string }>();
    const byPath = new Map(entries.map((e) => [e.abs, e]));
    for (const e of entries) {
      if (ignorable(e.name)) continue;
      if (e.name.endsWith('.sql.conf') && byPath.has(e.abs.slice(0, -'.conf'.length))) continue;
      if (/^R__.+\.sql$/.test(e.name)) throw needsTool(e.file, 'a Flyway repeatable migration', flywayFormat);
      if (CALLBACK.test(e.name)) throw needsTool(e.file, 'a Flyway callback', flywayFormat);
      if (/^[VUR].*__.+\.(java|class|kt|scala|groovy)$/.test(e.name))
        throw needsTool(e.file, 'a Flyway Java migration', flywayFormat);
      const m = NAME.exec(e.name);
      if (!m) throw notAMigration(e, flywayFormat, 'V<version>__<description>.sql or U<version>__<description>.sql');
      const parts = m[2].split(/[._]/).map((p) => BigInt(p));
      const version = flywayKey(parts);
      if (version === null)
        throw new UserError(
          `${e.file}: version ${m[2]} has too many or too large parts for Slipway's 63-bit version key; use tool: command with flyway`,
          { file: e.file },
        );
      const versionText = m[2].replace(/_/g, '.');
      const source = await read(e);
      const noTransaction =
        (await scriptConfigSaysNoTransaction(byPath.get(`${e.abs}.conf`), read)) ??
        cannotRunInTransaction(e.file, source.text);
      const part: Part = { file: e.file, sql: source.text, noTransaction };
      const same = m[1] === 'V' ? ups.get(version)?.up.file : undos.get(version)?.file;
      if (same) throw new UserError(`${e.file}: version ${versionText} is also used by ${same}`, { file: e.file });
      if (m[1] === 'U') undos.set(version, { ...part, versionText });
      else ups.set(version, { version, versionText, name: m[3], up: part, source });
    }
    for (const [version, undo] of undos) {
      const up = ups.get(version);
      if (!up)
        throw new UserError(`${undo.file}: an undo migration without V${undo.versionText}__….sql`, { file: undo.file });
      up.down = { file: undo.file, sql: undo.sql, noTransaction: undo.noTransaction };
    }
    return [...ups.values()];
  },
};

/** `executeInTransaction` from the file's `.conf`, or null when it has none or does not say. */
async function scriptConfigSaysNoTransaction(
  conf: FolderEntry | undefined,
  read: (entry: FolderEntry) => Promise<{ text: string }>,
): Promise<boolean | null> {
  if (!conf || conf.isDir) return null;
  const { text } = await read(conf);
  const m = /^\s*executeInTransaction\s*=\s*(true|false)\s*$/im.exec(text);
  return m ? m[1].toLowerCase() === 'false' : null;
}

/** A Flyway version as numeric parts ('1.10' → [1, 10]), or null when it is not one. */
export function flywayParts(version: string): bigint[] | null {
  if (!/^\d+(?:[._]\d+)*$/.test(version)) return null;
  return version.split(/[._]/).map((p) => BigInt(p));
}

/**
 * The 63-bit key that stands for a Flyway version in the history table's bigint column,
 * ordered as Flyway orders versions. Trailing zero parts are dropped (Flyway: 1.0 = 1); each
 * part is written as 6 bits of (bit length + 1) then its bits without the leading 1, and the
 * whole is padded with zeros: shorter numbers sort first, a version sorts before its
 * extensions. Null when it does not fit in 63 bits (e.g. more than one 14-digit timestamp part).
 */
export function flywayKey(parts: bigint[]): bigint | null {
  const ps = [...parts];
  while (ps.length && ps[ps.length - 1] === 0n) ps.pop();
  let bits = '';
  for (const p of ps) {
    const b = p === 0n ? '' : p.toString(2);
    if (b.length + 1 > 63) return null;
    bits += (b.length + 1).toString(2).padStart(6, '0') + b.slice(1);
  }
  if (bits.length > 63) return null;
  return bits ? BigInt(`0b${bits.padEnd(63, '0')}`) : 0n;
}

/** The version a key stands for ('1.1'), for a row whose file is gone: the inverse of flywayKey. */
export function flywayVersionOfKey(key: bigint): string {
  const bits = key.toString(2).padStart(63, '0');
  const parts: string[] = [];
  let at = 0;
  while (at + 6 <= bits.length) {
    const field = parseInt(bits.slice(at, at + 6), 2);
    if (field === 0) break;
    const length = field - 1;
    parts.push(length === 0 ? '0' : BigInt(`0b1${bits.slice(at + 6, at + 6 + length - 1)}`).toString());
    at += 6 + Math.max(length - 1, 0);
  }
  return parts.join('.') || '0';
}
