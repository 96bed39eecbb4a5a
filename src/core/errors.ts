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

/** The longest quoted value a message shows whole, in characters. */
const QUOTED_MAX = 100;

/**
 * Cut every quoted value longer than QUOTED_MAX characters (a 10,000-character input echoed
 * back helps no one and buries the cause) to its start and how long it was.
 */
export function shortenQuoted(message: string): string {
  return message.replace(/"(?:[^"\\]|\\.){100,}"/g, (quoted) => {
    const inner = quoted.slice(1, -1);
    if (inner.length <= QUOTED_MAX) return quoted;
    // Never end inside an escape sequence.
    const start = inner.slice(0, 60).replace(/\\[^"]{0,5}$/, '');
    return `"${start}…" (${inner.length} characters)`;
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
