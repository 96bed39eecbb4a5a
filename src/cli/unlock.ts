/** `slipway unlock --environment E`: release a lock a dead run left held, naming its holder. */
import { userInfo } from 'node:os';
import { UserError } from '../core/errors.js';
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
    'Usage: slipway unlock --environment NAME [--token TOKEN]',
    '',
    'Marks every queued or in-progress deployment of the environment as error, naming each.',
    'With --token (or GITHUB_TOKEN) and GITHUB_REPOSITORY=owner/name: in GitHub Deployments;',
    'otherwise in .slipway/deployments.json. Only for a run that is gone: a live one goes on.',
  ].join('\n'),
  async run({ flags, cwd, term }) {
    const environment = flags.environment;
    if (!environment || environment === 'true')
      throw new UserError('--environment is required: the environment whose lock to release (e.g. production)');
    const token = flags.token && flags.token !== 'true' ? flags.token : (process.env.GITHUB_TOKEN ?? '');
    const rt = createCliRuntime(term, { cwd, verbose: flags.verbose === 'true', quiet: false });
    const record = chooseRecord({ token }, rt);
    const released = await releaseLock(record, environment, process.env.GITHUB_ACTOR || localUser());
    term.line(describeRelease(environment, released));
    return 0;
  },
};
