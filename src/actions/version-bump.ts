import { versionBump } from '../versioning/version-bump.js';
import { isEntryPoint, runOnGitHub } from './github-runtime.js';

/** Entry point of the version-bump action. */
export const run = (): Promise<void> => runOnGitHub(versionBump);
if (isEntryPoint(import.meta.url)) await run();
