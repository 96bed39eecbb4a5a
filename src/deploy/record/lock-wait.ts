/**
 * The wait for an environment's lock, the same for every record: look, and while an earlier
 * deployment holds the environment, say who (once per holder) and look again after a
 * doubling delay, until the lock is free or `lock-timeout` has passed.
 */
import { UserError } from '../../core/errors.js';
import { duration } from '../../core/markdown.js';
import { sleep } from '../../core/retry.js';
import { describeHolder, type DeploymentEntry, type LockOptions } from './record.js';

/** One look at the environment: the deployment to wait for, or what ends the wait. */
export type LockLook<T> = { holder: DeploymentEntry } | { free: T };

/** How a record waits. */
export interface LockWait {
  environment: string;
  lock: LockOptions;
  /** The first delay between looks when the lock options give none. */
  firstDelayMs: number;
  /** The longest delay between looks (a remote record is asked less often). */
  maxDelayMs: number;
  /** Milliseconds since the wait began. */
  elapsed: () => number;
}

/** Look until the environment is free; a UserError naming the holder once `lock.timeoutMs` has passed. */
export async function waitForLock<T>(look: () => Promise<LockLook<T>>, wait: LockWait): Promise<T> {
  let delay = wait.lock.pollMs ?? wait.firstDelayMs;
  let announced = '';
  for (;;) {
    const seen = await look();
    if ('free' in seen) return seen.free;
    const holder = seen.holder;
    const waited = wait.elapsed();
    if (waited >= wait.lock.timeoutMs)
      throw new UserError(
        `lock-timeout: deployment ${describeHolder(holder)} to ${wait.environment} is still in progress after waiting ${duration(waited)}` +
          // The one way out when that run is dead, said where the operator is looking.
          ` (if that run is gone, release the environment: force-unlock: true, or slipway unlock --environment ${wait.environment})`,
      );
    if (announced !== holder.id) {
      wait.lock.log.info(`Waiting for deployment ${describeHolder(holder)} to ${wait.environment} to finish.`);
      announced = holder.id;
    }
    await sleep(Math.min(delay, Math.max(1, wait.lock.timeoutMs - waited)));
    delay = Math.min(delay * 2, wait.maxDelayMs);
  }
}
