/** The bundled tag-release action as a runner runs it, in a shallow clone, against the OpenAPI-checked GitHub. */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { cloneRepo, createRepo, type TestRepo } from '../helpers/git-repo.js';
import { startGitHubServer, type GitHubServer } from '../helpers/github-server.js';
import { errorLines, runBundledAction, type ActionRun } from '../helpers/run-action.js';

const TOKEN = 'ghs_bundledTagRelease0123456789abcdef';
let gh: GitHubServer;
let origin: TestRepo;
let clone: TestRepo | undefined;

beforeEach(async () => {
  gh = await startGitHubServer({ token: TOKEN });
  origin = createRepo();
});
afterEach(async () => {
  expect(gh.violations).toEqual([]);
  await gh.stop();
  origin.cleanup();
  clone?.cleanup();
});

/** Every stdout and stderr line that shows the token; the ::add-mask:: command that hides it is the one allowed. */
function tokenLeaks(run: ActionRun): string[] {
  return [...run.stdout.split('\n'), ...run.stderr.split('\n')].filter(
    (line) => line.includes(TOKEN) && !line.startsWith('::add-mask::'),
  );
}

describe('the bundled tag-release', () => {
  it('releases from a shallow clone; the token shows on no stdout or stderr line but ::add-mask::', async () => {
    origin.commit('feat: one');
    origin.tag('v1.0.0');
    origin.commit('feat(api): refunds (#7)');
    const head = origin.commit('fix: rounding');
    gh.state.repo().importGit(origin.dir);
    clone = cloneRepo(origin, ['--depth', '1']);
    expect(clone.git('rev-parse', '--is-shallow-repository').trim()).toBe('true');
    // A 502 and a rate limit on the way, so the retry logs print too; debug on, as a re-run with debug logging is.
    gh.failNext('repos/create-release', 502, 1);
    gh.failNext('git/create-tag', 403, 1);
    const env = {
      GITHUB_API_URL: gh.url,
      GITHUB_SHA: head,
      GITHUB_REF: 'refs/heads/main',
      SLIPWAY_RETRY_BASE_MS: '1',
      RUNNER_DEBUG: '1',
    };

    const run = await runBundledAction('tag-release', {
      cwd: clone.dir,
      inputs: { version: '1.1.0', token: TOKEN },
      env,
    });

    expect(errorLines(run)).toEqual([]);
    expect(run.code).toBe(0);
    const releases = gh.state.repo().releases;
    expect(releases).toHaveLength(1);
    expect(gh.state.repo().tag('v1.1.0')).toEqual({ sha: expect.any(String), commit: head, annotated: true });
    expect(run.outputs).toMatchObject({
      tag: 'v1.1.0',
      created: 'true',
      'release-id': String(releases[0].id),
      'release-url': releases[0].html_url,
    });
    // The clone was deepened to the previous tag: the notes hold exactly the commits since v1.0.0.
    expect(run.outputs.notes).toContain('refunds');
    expect(run.outputs.notes).toContain('rounding');
    expect(run.outputs.notes).not.toContain('- one (');
    expect(run.outputs.notes).toContain('**Roll back to:** 1.0.0 (`v1.0.0`)');
    expect(run.summary).toContain(`[v1.1.0](${releases[0].html_url})`);
    expect(run.stdout).toContain(`::add-mask::${TOKEN}`);
    expect(tokenLeaks(run)).toEqual([]);
    expect(run.summary + JSON.stringify(run.outputs)).not.toContain(TOKEN);
    expect(gh.requests.every((r) => r.token === TOKEN)).toBe(true);

    // A run that fails (the tag is on another commit now) says so in one line, again without the token.
    const other = origin.commit('feat: later');
    gh.state.repo().importGit(origin.dir);
    const moved = await runBundledAction('tag-release', {
      cwd: clone.dir,
      inputs: { version: '1.1.0', token: TOKEN, target: other },
      env,
    });
    expect(moved.code).toBe(1);
    expect(errorLines(moved)).toEqual([
      `::error ::tag v1.1.0 already exists on commit ${head}, not on ${other}: a released tag is never moved; release a new version instead`,
    ]);
    expect(tokenLeaks(moved)).toEqual([]);
  });
});
