/** The CLI-only commands, in the order `--help` lists them. */
import type { Command } from './main.js';

export const COMMANDS: Command[] = [];
