/**
 * Cancellation of a whole run. A cancelled job gets SIGINT from the runner and, about 7.5 s
 * later, SIGTERM; a person at a terminal presses Ctrl-C. Either way the process must stop
 * what it started (user commands run in their own process groups, which no signal to this
 * process reaches), leave the record saying so and release what it holds, and exit
 * non-zero before the runner kills it. Code that holds something registers a cleanup with
 * `onCancel`; the entry points install the signal handlers.
 */
import { errorMessage } from './errors.js';

/** What a cleanup may log through. */
export interface CancelLog {
  info(message: string): void;
  warning(message: string): void;
}

type Cleanup = () => Promise<void> | void;

interface Registered {
  fn: Cleanup;
  /** `stop` runs first (kill processes), `release` after (records, locks, notifications). */
  phase: 'stop' | 'release';
}

const cleanups = new Set<Registered>();
let reason: string | null = null;
let running: Promise<void> | null = null;

/** The whole run's time budget for cleanups: inside the runner's 7.5 s between SIGINT and SIGTERM. */
const CANCEL_DEADLINE_MS = 5_000;

/** Raised by work that refuses to start once the run is cancelled. */
export class CancelledError extends Error {
  constructor(what: string) {
    super(`cancelled (${reason ?? 'cancelled'}): ${what} was not started`);
    this.name = 'CancelledError';
  }
}

/** True once the run is being cancelled. */
export function isCancelled(): boolean {
  return reason !== null;
}

/** Why the run is cancelled ("SIGINT", "SIGTERM"), or null. */
export function cancelReason(): string | null {
  return reason;
}

/**
 * Register a cleanup for a cancelled run; returns the function that unregisters it (call it
 * once what it releases is released the normal way).
 */
export function onCancel(fn: Cleanup, phase: Registered['phase'] = 'release'): () => void {
  const entry: Registered = { fn, phase };
  cleanups.add(entry);
  return () => cleanups.delete(entry);
}

/**
 * Cancel the run: mark it cancelled (synchronously, so work racing with the cleanups sees
 * it), run the `stop` cleanups, then the `release` ones, all within `deadlineMs`. A
 * cleanup's failure is a warning; a second call only waits for the first.
 */
function cancelRun(why: string, log: CancelLog, deadlineMs = CANCEL_DEADLINE_MS): Promise<void> {
  if (running) return running;
  reason = why;
  const started = Date.now();
  const runPhase = async (phase: Registered['phase']) => {
    const left = deadlineMs - (Date.now() - started);
    if (left <= 0) return;
    const list = [...cleanups].filter((c) => c.phase === phase);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), left);
      timer.unref();
    });
    const all = Promise.all(
      list.map(async (c) => {
        try {
          await c.fn();
        } catch (err) {
          log.warning(`While cancelling: ${errorMessage(err)}`);
        } finally {
          // `stop` cleanups belong to modules (the process registry) and stay for the next run.
          if (c.phase === 'release') cleanups.delete(c);
        }
      }),
    );
    const outcome = await Promise.race([all.then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'late') log.warning(`While cancelling: cleanups did not finish within ${deadlineMs} ms.`);
  };
  running = (async () => {
    await runPhase('stop');
    await runPhase('release');
  })();
  return running;
}

/**
 * On SIGINT or SIGTERM: cancel the run, then exit with 130 (SIGINT) or 143 (SIGTERM). A
 * second signal while cancelling exits at once. Returns the function that removes the
 * handlers.
 */
export function installCancelHandlers(log: CancelLog, exit: (code: number) => void = process.exit): () => void {
  const handler = (signal: NodeJS.Signals) => {
    if (running) {
      // Forced: what the first signal was releasing may stay held; say how to free it.
      log.warning(
        `${signal} again while cancelling: exiting now; a deployment lock the run held may stay held (slipway unlock --environment NAME, or deploy's force-unlock: true).`,
      );
      exit(signal === 'SIGINT' ? 130 : 143);
      return;
    }
    log.warning(`${signal}: cancelling the run (stopping its commands, releasing the environment).`);
    void cancelRun(signal, log).then(() => exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
