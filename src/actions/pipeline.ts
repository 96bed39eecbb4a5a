import { pipelineAction } from '../pipeline/pipeline-action.js';
import { keepAsArtifact } from './adapters/artifact-keeper.js';
import { isEntryPoint, runOnGitHub } from './github-runtime.js';

/** Entry point of the root action (the whole pipeline). */
export const run = (): Promise<void> => runOnGitHub(pipelineAction, { keep: keepAsArtifact });
if (isEntryPoint(import.meta.url)) await run();
