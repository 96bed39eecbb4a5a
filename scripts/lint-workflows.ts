/** `npm run lint` part two: GitHub's parser, actionlint and our rules over workflows and action.yml files. */
import { checkAll, workflowFiles, actionFiles } from './workflow-checks.js';

const root = process.cwd();
const errors = checkAll(root);
if (errors.length) {
  for (const e of errors) console.error(e);
  process.exit(1);
}
console.log(
  `workflows: ${workflowFiles(root).length} workflow and ${actionFiles(root).length} action files pass the parser, actionlint and Slipway's rules`,
);
