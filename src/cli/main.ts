/**
 * `slipway`: the same actions from a terminal. `slipway <action> [--input value …]` runs an
 * action with the same code as the runner; `plan`, `status` and `demo` are CLI-only.
 */
import path from 'node:path';
import { installCancelHandlers, isCancelled } from '../core/cancel.js';
import { describeFailure, isUserError, UserError } from '../core/errors.js';
import type { ActionDefinition, InputFields } from '../core/inputs.js';
import { invokeAction } from '../pipeline/invoke.js';
import { ACTIONS } from '../registry.js';
import { parseArgs } from './args.js';
import { createCliRuntime } from './cli-runtime.js';
import { localRunner } from './local-actions.js';
import { createTerminal, type Terminal } from './terminal.js';
import { COMMANDS } from './commands.js';

/** A CLI-only command. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** The flags it takes besides the global ones (--json, --cwd, --verbose, --quiet, --help); none when absent. */
  flags?: readonly string[];
  run(args: { flags: Record<string, string>; positional: string[]; term: Terminal; cwd: string }): Promise<number>;
}

const GLOBAL_FLAGS = ['json', 'cwd', 'verbose', 'quiet', 'help'];

function usage(commands: Command[]): string {
  const lines = ['Usage: slipway <command> [--flag value …]', '', 'Actions (the same code as the GitHub Actions):'];
  for (const a of ACTIONS) lines.push(`  ${a.name.padEnd(16)} ${a.description}`);
  lines.push('', 'Commands:');
  for (const c of commands) lines.push(`  ${c.name.padEnd(16)} ${c.summary}`);
  lines.push(
    '',
    'Global flags: --json (outputs as JSON on stdout), --cwd DIR (the repository), --verbose, --quiet, --help',
    'Run `slipway <command> --help` for its flags.',
  );
  return lines.join('\n');
}

/** A default as a person would type it: a runner expression means nothing here. */
function shownDefault(value: string): string {
  if (value === '${{ github.token }}') return "none (on a runner: the job's GITHUB_TOKEN)";
  return value.startsWith('${{') ? 'none (on a runner: what the workflow provides)' : value;
}

function actionHelp(action: ActionDefinition<InputFields>): string {
  const lines = [`Usage: slipway ${action.name} [--input value …]`, '', action.description, '', 'Inputs:'];
  for (const [name, f] of Object.entries(action.inputs)) {
    const def = f.required ? ' (required)' : f.default ? ` (default: ${shownDefault(f.default)})` : '';
    lines.push(`  --${name.padEnd(18)} ${f.description}${def}`);
  }
  lines.push('', 'Outputs:');
  for (const [name, d] of Object.entries(action.outputs)) lines.push(`  ${name.padEnd(20)} ${d}`);
  return lines.join('\n');
}

/** Print an action's outputs: JSON on stdout with --json, else readable lines. */
function printOutputs(outputs: Record<string, string>, json: boolean, term: Terminal): void {
  if (json) {
    const parsed: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(outputs)) {
      try {
        parsed[k] = /^[[{]/.test(v) ? JSON.parse(v) : v;
      } catch {
        parsed[k] = v;
      }
    }
    process.stdout.write(`${JSON.stringify(parsed, null, 2)}\n`);
    return;
  }
  for (const [k, v] of Object.entries(outputs)) {
    const value = v.includes('\n') ? `\n${v.replace(/^/gm, '    ')}` : v;
    process.stdout.write(`${term.color('cyan', k)}: ${value}\n`);
  }
}

/** Refuse a flag `command` does not take, in one line listing those it does. */
function checkCommandFlags(command: Command, flags: Record<string, string>): void {
  const own = command.flags ?? [];
  const unknown = Object.keys(flags).find((name) => !GLOBAL_FLAGS.includes(name) && !own.includes(name));
  if (unknown === undefined) return;
  const expected = own.length
    ? `expected one of: ${own.map((n) => `--${n}`).join(', ')}`
    : `it takes only the global flags ${GLOBAL_FLAGS.map((n) => `--${n}`).join(', ')}`;
  throw new UserError(`unknown flag --${unknown} for ${command.name} (${expected})`);
}

/** Run an action from the command line with flags as its inputs. */
async function runAction(
  action: ActionDefinition<InputFields>,
  flags: Record<string, string>,
  term: Terminal,
  cwd: string,
): Promise<number> {
  const inputs: Record<string, string> = {};
  for (const [name, value] of Object.entries(flags)) {
    if (GLOBAL_FLAGS.includes(name)) continue;
    if (!(name in action.inputs)) {
      throw new UserError(
        `unknown flag --${name} for ${action.name} (expected one of: ${Object.keys(action.inputs)
          .map((n) => `--${n}`)
          .join(', ')})`,
      );
    }
    inputs[name] = value;
  }
  const rt = createCliRuntime(term, { cwd, verbose: flags.verbose === 'true', quiet: flags.quiet === 'true' });
  // Filled as the action sets them, so a cancelled run's outputs can be printed before it exits.
  const outputs: Record<string, string> = {};
  // Ctrl-C: stop the commands, release the environment (the action's cleanup sets its
  // outputs), print the outputs and one error line, then exit non-zero.
  const removeHandlers = installCancelHandlers(rt.log, (code) => {
    printOutputs(outputs, flags.json === 'true', term);
    term.line(`${term.color('red', 'error:')} ${action.name} cancelled`);
    process.exit(code);
  });
  let error: unknown;
  try {
    await invokeAction(action, inputs, rt, localRunner(action.name) ?? undefined, outputs);
  } catch (err) {
    error = err;
  } finally {
    removeHandlers();
  }
  // Cancelled: the signal handler prints the outputs and the error line once what the run held is released.
  if (isCancelled()) return 1;
  // Outputs set before a failure are printed too: a rolled-back deploy's status and versions matter most.
  printOutputs(outputs, flags.json === 'true', term);
  if (error === undefined) return 0;
  reportFailure(error, term);
  return 1;
}

/** One line for a failure on stderr; a bug's stack only with SLIPWAY_DEBUG. */
function reportFailure(err: unknown, term: Terminal): void {
  const { message, detail } = describeFailure(err);
  term.line(`${term.color('red', 'error:')} ${message}`);
  if (detail && !isUserError(err) && process.env.SLIPWAY_DEBUG) term.line(detail);
}

/**
 * A reader that stops early (`slipway … | head`) closes the pipe: without a listener the next
 * write throws an unhandled EPIPE with a stack, and a deploy would die half-way. The output
 * is dropped instead and the command finishes what it started.
 */
function keepRunningWhenThePipeCloses(): void {
  for (const stream of [process.stdout, process.stderr])
    if (!stream.listenerCount('error'))
      stream.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
      });
}

/** The CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  keepRunningWhenThePipeCloses();
  const term = createTerminal();
  try {
    const { positional, flags } = parseArgs(argv, new Set(['json', 'verbose', 'quiet', 'help', 'dry-run']));
    const commands = COMMANDS;
    const name = positional[0];
    if (!name || name === 'help') {
      process.stdout.write(`${usage(commands)}\n`);
      return name || flags.help ? 0 : 2;
    }
    const cwd = path.resolve(flags.cwd ?? process.cwd());
    const action = ACTIONS.find((a) => a.name === name);
    if (action) {
      if (flags.help) {
        process.stdout.write(`${actionHelp(action)}\n`);
        return 0;
      }
      return await runAction(action, flags, term, cwd);
    }
    const command = commands.find((c) => c.name === name);
    if (!command)
      throw new UserError(
        `unknown command "${name}" (expected one of: ${[...ACTIONS.map((a) => a.name), ...commands.map((c) => c.name)].join(', ')})`,
      );
    if (flags.help) {
      process.stdout.write(`${command.usage}\n`);
      return 0;
    }
    checkCommandFlags(command, flags);
    return await command.run({ flags, positional: positional.slice(1), term, cwd });
  } catch (err) {
    reportFailure(err, term);
    return 1;
  }
}

const entry = process.argv[1] ?? '';
if (entry.endsWith(path.join('src', 'cli', 'main.ts'))) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
