import { deploy } from '../deploy/deploy-action.js';
import { keepAsArtifact } from './adapters/artifact-keeper.js';
import { isEntryPoint, runOnGitHub } from './github-runtime.js';

/** Entry point of the deploy action. */
export const run = (): Promise<void> => runOnGitHub(deploy, { keep: keepAsArtifact });
if (isEntryPoint(import.meta.url)) await run();
