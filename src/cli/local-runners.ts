/** The CLI's local forms of the actions that talk to GitHub or need a database server. */
import { deployLocally } from '../deploy/local.js';
import { migrateLocally } from '../migrations/local.js';
import { registerLocalRunner } from './local-actions.js';
import { tagReleaseLocally } from './local-tag-release.js';

registerLocalRunner('deploy', () => deployLocally);
registerLocalRunner('migrate', () => migrateLocally);
registerLocalRunner('tag-release', () => tagReleaseLocally);
