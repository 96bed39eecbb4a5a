/**
 * The one rule for an environment name, shared by deploy and the CLI's status and unlock: a
 * name the policy file does not define is refused, so a typo never reads an empty record,
 * releases nothing, or starts a deployment to an environment no one configured.
 */
import { DEFAULT_CONFIG_PATH, type SlipwayConfig } from '../core/config.js';
import { UserError } from '../core/errors.js';

/**
 * `raw`, trimmed, when it names an environment; `from` is how errors name it (`input
 * "environment"`, `--environment`). Any well-formed name passes when the policy file defines
 * no environments.
 */
export function knownEnvironment(config: SlipwayConfig, raw: string, from: string): string {
  const environment = raw.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9_.\-/ ]*$/.test(environment))
    throw new UserError(`${from}: expected an environment name such as staging, got ${JSON.stringify(raw)}`);
  const known = Object.keys(config.environments);
  if (known.length && !known.includes(environment))
    throw new UserError(
      `${from}: unknown environment "${environment}" in ${config.file ?? DEFAULT_CONFIG_PATH} (expected one of: ${known.join(', ')})`,
    );
  return environment;
}
