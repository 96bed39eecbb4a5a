/** Every action Slipway ships, for the CLI and for the generated action.yml and README. */
import type { ActionDefinition, InputFields } from './core/inputs.js';
import { versionBump } from './versioning/version-bump.js';
import { smokeTest } from './checks/smoke-test.js';
import { buildSelective } from './changes/build-selective.js';
import { deploy } from './deploy/deploy-action.js';
import { migrate } from './migrations/migrate.js';
import { tagRelease } from './release/tag-release.js';

/** The actions by name, in pipeline order. */
export const ACTIONS: ActionDefinition<InputFields>[] = [
  versionBump,
  buildSelective,
  migrate,
  deploy,
  smokeTest,
  tagRelease,
];
