/** Command-line flags: `--name value`, `--name=value`, and bare `--flag` for true. */
import { UserError } from '../core/errors.js';

/** Parsed command line: positional words and flags. */
export interface ParsedArgs {
  positional: string[];
  flags: Record<string, string>;
}

/** Split argv into positionals and flags; `booleans` are flags that never take a value. */
export function parseArgs(argv: string[], booleans: ReadonlySet<string> = new Set()): ParsedArgs {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (!name) throw new UserError(`bad flag "${a}"`);
      if (eq > 0) flags[name] = a.slice(eq + 1);
      else if (booleans.has(name) || i + 1 >= argv.length || argv[i + 1].startsWith('--')) flags[name] = 'true';
      else flags[name] = argv[++i];
    } else if (a === '-h') flags.help = 'true';
    else positional.push(a);
  }
  return { positional, flags };
}
