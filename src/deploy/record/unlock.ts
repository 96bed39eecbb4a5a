/**
 * Releasing a stuck lock by hand: every deployment of the environment that still holds it
 * (queued or in progress) is marked error with who released it. For a run that died
 * without releasing it (a killed runner, a lost machine), not for one that is alive: a
 * live run would go on deploying while the next one starts.
 */
import { describeHolder, fitDescription, holdsLock, type DeploymentEntry, type DeploymentRecord } from './record.js';

/** Mark every holder of `environment`'s lock as error; returns the deployments released. */
export async function releaseLock(
  record: DeploymentRecord,
  environment: string,
  by: string,
): Promise<DeploymentEntry[]> {
  const holders = (await record.history(environment)).filter((e) => holdsLock(e.state));
  for (const e of holders)
    await record.finish(e.id, {
      state: 'error',
      description: fitDescription(`lock released by hand by ${by || 'unknown'} (was ${e.state})`),
    });
  return holders;
}

/** One line naming what was released. */
export function describeRelease(environment: string, released: readonly DeploymentEntry[]): string {
  if (released.length === 0) return `${environment} is not locked: no deployment is queued or in progress.`;
  return `Released the lock of ${environment}: ${released.map(describeHolder).join('; ')} marked error.`;
}
