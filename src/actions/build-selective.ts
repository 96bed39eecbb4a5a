import { createBuildSelective } from '../changes/build-selective.js';
import { githubBuildServices } from './adapters/build-services.js';
import { isEntryPoint, runOnGitHub } from './github-runtime.js';

/** Entry point of the build-selective action. */
export const run = (): Promise<void> => runOnGitHub(createBuildSelective(githubBuildServices));
if (isEntryPoint(import.meta.url)) await run();
