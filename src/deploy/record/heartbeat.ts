/**
 * The heartbeat of a running deployment: its in_progress record is refreshed about three
 * times per lock-ttl, so a deployment that runs longer than lock-ttl is not taken over as
 * stale by a second run. Only a deployment that stops beating (a crashed or cancelled job)
 * goes stale.
 */
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/runtime.js';
import type { DeploymentRecord, HeartbeatRequest } from './record.js';

/** Beats per lock-ttl: two can be lost (a slow API, a busy machine) before the lock looks stale. */
const BEATS_PER_TTL = 3;

/** A running heartbeat; `stop` waits for a beat in flight, so no beat lands after the final state. */
export interface Heartbeat {
  stop(): Promise<void>;
}

/** Refresh deployment `id` every ttlMs / BEATS_PER_TTL until stopped; a failed beat is a warning. */
export function startHeartbeat(
  record: DeploymentRecord,
  id: string,
  request: HeartbeatRequest,
  options: { ttlMs: number; log: Logger },
): Heartbeat {
  const intervalMs = Math.max(50, Math.floor(options.ttlMs / BEATS_PER_TTL));
  let stopped = false;
  let inFlight: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const beat = async () => {
    try {
      const alive = await record.heartbeat(id, request);
      if (!alive) {
        options.log.warning(
          `Deployment #${id} is no longer in progress in ${record.name} (another run took it over); this run goes on, but the environment lock is gone.`,
        );
        stopped = true;
      }
    } catch (err) {
      options.log.warning(`Could not refresh deployment #${id} in ${record.name}: ${errorMessage(err)}`);
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      inFlight = beat().finally(schedule);
    }, intervalMs);
    // A pending beat must not keep the process alive after the deployment ends.
    timer.unref?.();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight;
    },
  };
}
