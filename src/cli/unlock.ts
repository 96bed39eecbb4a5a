/** `slipway unlock --environment E`: release a lock a dead run left held, naming its holder. */
import { userInfo } from 'node:os';
import { loadConfig } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { knownEnvironment } from '../deploy/environments.js';
import { chooseRecord } from '../deploy/record/open.js';
import { describeRelease, releaseLock } from '../deploy/record/unlock.js';
import { createCliRuntime } from './cli-runtime.js';
import type { Command } from './main.js';

function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

export const command: Command = {
  name: 'unlock',
  summary: 'Release an environment’s deployment lock that a cancelled or crashed run left held.',
  usage: [
    'Usage: slipway unlock --environment NAME [--token TOKEN] [--config FILE]',
    '',
    'Marks every queued or in-progress deployment of the environment as error, naming each.',
    'With --token (or GITHUB_TOKEN) and GITHUB_REPOSITORY=owner/name: in GitHub Deployments;',
    'otherwise in .slipway/deployments.json. Only for a run that is gone: a live one goes on.',
  ].join('\n'),
  flags: ['environment', 'token', 'config'],
  async run({ flags, cwd, term }) {
    if (!flags.environment || flags.environment === 'true')
      throw new UserError('--environment is required: the environment whose lock to release (e.g. production)');
    const config = await loadConfig(cwd, flags.config ?? '');
    const environment = knownEnvironment(config, flags.environment, '--environment');
    const token = flags.token && flags.token !== 'true' ? flags.token : (process.env.GITHUB_TOKEN ?? '');
    const rt = createCliRuntime(term, { cwd, verbose: flags.verbose === 'true', quiet: false });
    const record = chooseRecord({ token }, rt);
    const released = await releaseLock(record, environment, process.env.GITHUB_ACTOR || localUser());
    term.line(describeRelease(environment, released));
    return 0;
  },
};
