import { tagRelease } from '../release/tag-release.js';
import { isEntryPoint, runOnGitHub } from './github-runtime.js';

/** Entry point of the tag-release action. */
export const run = (): Promise<void> => runOnGitHub(tagRelease);
if (isEntryPoint(import.meta.url)) await run();
