/**
 * The mark a reserved tag carries: the workflow run that reserved it. A re-run of that run
 * (GitHub's "Re-run all jobs" keeps GITHUB_RUN_ID) finds its own tag on the commit and ships
 * that version again, where any other run reads the tag as a release already made.
 */

const KEY = 'Slipway-Run';

/** The annotated tag message of a reservation: the title, then the run as a git trailer. */
export function reservedTagMessage(title: string, runId: string | undefined): string {
  return runId ? `${title}\n\n${KEY}: ${runId}\n` : `${title}\n`;
}

/** True when a tag message marks the tag as reserved by run `runId`. */
export function reservedByRun(message: string, runId: string): boolean {
  return message.split('\n').some((line) => line.trim() === `${KEY}: ${runId}`);
}
