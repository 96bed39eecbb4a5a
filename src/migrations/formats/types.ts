/** What every migration format module gives the loader (files.ts). */
import type { SqlStatement } from '../sql-split.js';

/** The formats the built-in runner reads. */
export const FORMAT_NAMES = ['slipway', 'golang-migrate', 'goose', 'dbmate', 'flyway', 'prisma'] as const;
/** One of the formats the built-in runner reads. */
export type FormatName = (typeof FORMAT_NAMES)[number];

/** One entry of the migrations folder. */
export interface FolderEntry {
  /** The name inside the folder. */
  name: string;
  /** Absolute path. */
  abs: string;
  /** Path shown in messages (relative to the repository). */
  file: string;
  isDir: boolean;
}

/** A file the format asked for, read. */
export interface ReadFile {
  file: string;
  buf: Buffer;
  text: string;
}

/** One direction of a migration. */
export interface Part {
  /** The file that holds it, for messages. */
  file: string;
  /** The SQL that runs, with the lines of other parts blanked so line numbers stay the file's. */
  sql: string;
  noTransaction: boolean;
  /** Statement boundaries the file states itself (goose StatementBegin/End), else the splitter's. */
  statements?: SqlStatement[];
}

/** A migration as a format parsed it, before its checksum. */
export interface ParsedMigration {
  version: bigint;
  versionText: string;
  name: string;
  up: Part;
  down?: Part;
  /** The file whose content is checksummed (the up file; the whole file where up and down share one). */
  source: ReadFile;
}

/** A format: how to recognise and read its folder. */
export interface MigrationFormat {
  name: FormatName;
  /** The tool that runs this format, for `tool: command` advice. */
  tool: string;
  /** An example command for that tool. */
  command: string;
  /** What makes a file of this format run outside a transaction, as the log names it. */
  noTransactionHint: string;
  /** How to make a file of this format run outside a transaction, as advice in an error. */
  noTransactionAdvice: string;
  /** Parse the folder's entries; `read` reads one (after the workspace check). */
  parse(
    entries: FolderEntry[],
    read: (entry: FolderEntry, name?: string) => Promise<ReadFile>,
  ): Promise<ParsedMigration[]>;
}
