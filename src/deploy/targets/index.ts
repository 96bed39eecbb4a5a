/** Every deploy target kind, by the name `deploy.target` gives it; a new target is one line here. */
import { commandTarget } from './command.js';
import { nginxTarget } from './nginx.js';
import { releaseTarget } from './release.js';
import type { TargetFactories } from './target.js';

/** The targets deploy knows. */
export const TARGETS: TargetFactories = {
  command: commandTarget,
  release: releaseTarget,
  nginx: nginxTarget,
};
