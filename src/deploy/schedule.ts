/**
 * Running steps in dependency order, at most `parallel` at once. A step starts as soon as
 * every step it waits for has succeeded, not when its whole wave is done: with uneven
 * durations that is never slower than wave by wave, and the order the waves promise holds.
 * After the first failure nothing new starts; the steps in flight finish.
 */

/** What happened to each step. */
export interface ScheduleOutcome {
  succeeded: string[];
  failed: string[];
  /** Steps that never started because something failed first. */
  notRun: string[];
}

/** Run `work` for each of `order` (a topological order), honouring `after` and `parallel`. */
export async function runScheduled(
  order: readonly string[],
  after: Readonly<Record<string, readonly string[]>>,
  parallel: number,
  work: (name: string) => Promise<boolean>,
  options: { stopOnFailure?: boolean } = {},
): Promise<ScheduleOutcome> {
  const stopOnFailure = options.stopOnFailure ?? true;
  const done = new Set<string>();
  const succeeded: string[] = [];
  const failed: string[] = [];
  const started = new Set<string>();
  const inFlight = new Map<string, Promise<void>>();
  let stopping = false;
  const ready = (n: string) => !started.has(n) && (after[n] ?? []).every((a) => done.has(a) && !failed.includes(a));
  for (;;) {
    if (!stopping) {
      for (const n of order) {
        if (inFlight.size >= Math.max(1, parallel)) break;
        if (!ready(n)) continue;
        started.add(n);
        inFlight.set(
          n,
          work(n)
            .catch(() => false)
            .then((ok) => {
              inFlight.delete(n);
              done.add(n);
              (ok ? succeeded : failed).push(n);
              if (!ok && stopOnFailure) stopping = true;
            }),
        );
      }
    }
    if (inFlight.size === 0) break;
    await Promise.race(inFlight.values());
  }
  return { succeeded, failed, notRun: order.filter((n) => !started.has(n)) };
}
