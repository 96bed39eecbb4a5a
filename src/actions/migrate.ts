import { migrate } from '../migrations/migrate.js';
import { keepAsArtifact } from './adapters/artifact-keeper.js';
import { isEntryPoint, runOnGitHub } from './github-runtime.js';

/** Entry point of the migrate action. */
export const run = (): Promise<void> => runOnGitHub(migrate, { keep: keepAsArtifact });
if (isEntryPoint(import.meta.url)) await run();
