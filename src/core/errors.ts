/**
 * Two kinds of failure: a UserError is something the user must fix (bad input, a bad
 * config, a refused deploy) and is shown as one line without a stack; anything else is
 * a bug in Slipway and is reported with its stack so it can be filed.
 */

/** Where in a file a user error points, for annotations. */
export interface ErrorLocation {
  file?: string;
  line?: number;
  column?: number;
}

/** An error the user must fix; its message is one line, shown without a stack trace. */
export class UserError extends Error {
  readonly location: ErrorLocation;
  constructor(message: string, location: ErrorLocation = {}) {
    super(shortenQuoted(oneLine(message)));
    this.name = 'UserError';
    this.location = location;
  }
}

/** A broken invariant inside Slipway itself. */
export class InternalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InternalError';
  }
}

/** True for errors the user must fix. */
export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError || (err instanceof Error && err.name === 'UserError');
}

/** Collapse whitespace and newlines so a cause always fits on one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** The longest echoed value a message shows whole, in characters. */
const ECHO_MAX = 100;

/**
 * Cut every quoted value longer than ECHO_MAX characters that a message echoes back (`got
 * "…"`, `unknown environment "…"`) to its start and its length: a 10,000-character input
 * shown whole helps no one and buries the cause. A value is a quoted run that starts after a
 * space, `(`, `:` or `=` and ends before one, so text between two short values is never taken
 * for one.
 */
function shortenQuoted(message: string): string {
  return message.replace(/(^|[\s(:=])"((?:[^"\\]|\\.)*)"(?=$|[\s),.:;])/g, (whole, before: string, inner: string) => {
    if (inner.length <= ECHO_MAX) return whole;
    // Never end inside an escape sequence.
    const start = inner.slice(0, 60).replace(/\\[^"]{0,5}$/, '');
    return `${before}"${start}…" (${inner.length} characters)`;
  });
}

/** The message of any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The text to show for a failure: one line for a user error, message and stack for a bug. */
export function describeFailure(err: unknown): { message: string; detail?: string } {
  if (isUserError(err)) return { message: err.message };
  const message = `Slipway hit an internal error (please report it): ${oneLine(errorMessage(err))}`;
  return { message, detail: err instanceof Error ? err.stack : undefined };
}
