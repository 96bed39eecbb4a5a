/** The CLI-only commands, in the order `--help` lists them. */
import { command as demo } from './demo/demo.js';
import { command as plan } from './plan.js';
import type { Command } from './main.js';
import { command as status } from './status.js';
import { command as restore } from './restore.js';
import { command as unlock } from './unlock.js';

export const COMMANDS: Command[] = [plan, status, unlock, restore, demo];
