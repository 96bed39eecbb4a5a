/**
 * Keeping a file beyond the job on a runner: RUNNER_TEMP is deleted when the job ends, so a
 * backup the rollback runbook points at is uploaded as an artifact of the run (the file as it
 * is, not zipped), downloadable afterwards with `gh run download` or from the run's page.
 */
import path from 'node:path';

// Loaded on first use: the artifact client (Azure storage SDK and all) is most of the bundle,
// and a run that takes no backup should not pay for starting it.
const load = () => import('@actions/artifact');

/** Upload `file` as an artifact of this run; its URL, or '' when the runner has no artifact service. */
export async function keepAsArtifact(file: string, env: NodeJS.ProcessEnv): Promise<string> {
  if (!env.ACTIONS_RUNTIME_TOKEN || !env.ACTIONS_RESULTS_URL) return '';
  const { DefaultArtifactClient } = await load();
  // The client retries each call with backoff and bounds each upload chunk in time.
  const { id } = await new DefaultArtifactClient().uploadArtifact(path.basename(file), [file], path.dirname(file), {
    skipArchive: true,
  });
  const server = env.GITHUB_SERVER_URL || 'https://github.com';
  if (!env.GITHUB_REPOSITORY || !env.GITHUB_RUN_ID) return `artifact ${path.basename(file)} (id ${id})`;
  return `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}/artifacts/${id}`;
}
