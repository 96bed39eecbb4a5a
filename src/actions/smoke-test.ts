import { smokeTest } from '../checks/smoke-test.js';
import { isEntryPoint, runOnGitHub } from './github-runtime.js';

/** Entry point of the smoke-test action. */
export const run = (): Promise<void> => runOnGitHub(smokeTest);
if (isEntryPoint(import.meta.url)) await run();
