/**
 * The promotion rule of the policy file: `environments.production.after: staging` means a
 * version reaches production only once it ran successfully on staging. Deploy checks it
 * against the same record it writes (GitHub Deployments or the ledger), per component.
 */
import type { DeploymentEntry } from './record/record.js';
import { endedGood } from './record/record.js';

/** A component whose version has not been deployed successfully to the earlier environment. */
export interface Unpromoted {
  component: string;
  version: string;
}

/** The steps (component → version) that the earlier environment's history has never run successfully. */
export function unpromoted(
  steps: readonly { component: string; next: string }[],
  earlier: readonly DeploymentEntry[],
): Unpromoted[] {
  const ran = new Set<string>();
  for (const e of earlier)
    if (endedGood(e.state)) for (const [c, v] of Object.entries(e.versions)) ran.add(`${c}@${v}`);
  return steps
    .filter((s) => !ran.has(`${s.component}@${s.next}`))
    .map((s) => ({ component: s.component, version: s.next }));
}

/** The one-line refusal: the environment, what is missing, and the environment it must go to first. */
export function promotionRefusal(
  environment: string,
  after: string,
  missing: readonly Unpromoted[],
  configFile: string,
): string {
  const shown = missing.slice(0, 5).map((m) => `${m.component} ${m.version}`);
  if (missing.length > shown.length) shown.push(`${missing.length - shown.length} more`);
  return (
    `refusing to deploy to ${environment}: ${shown.join(', ')} ${missing.length === 1 ? 'has' : 'have'} not been deployed successfully to ${after}, ` +
    `and environments.${environment}.after in ${configFile} requires it (deploy ${missing.length === 1 ? 'it' : 'them'} to ${after} first)`
  );
}
