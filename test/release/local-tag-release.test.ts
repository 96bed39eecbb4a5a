/** tag-release as the CLI and the demo run it: a local annotated tag in a real repository. */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { ActionDefinition, InputFields } from '../../src/core/inputs.js';
import { isUserError } from '../../src/core/errors.js';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { tagReleaseLocally } from '../../src/cli/local-tag-release.js';
import { invokeAction } from '../../src/pipeline/invoke.js';
import { tagRelease } from '../../src/release/tag-release.js';
import { createRepo, type TestRepo } from '../helpers/git-repo.js';

let repo: TestRepo;
beforeEach(() => {
  repo = createRepo();
});
afterEach(() => repo.cleanup());

/** Run the CLI's local tag-release with `inputs` (kebab-case, as a user gives them). */
async function tagLocally(inputs: Record<string, string | boolean>) {
  const rt = createMemoryRuntime({ cwd: repo.dir, env: { PATH: process.env.PATH } });
  const outputs = await invokeAction(
    tagRelease as unknown as ActionDefinition<InputFields>,
    inputs,
    rt,
    tagReleaseLocally,
  );
  return { outputs, rt };
}

describe('tag-release locally', () => {
  it('keeps the notes whole in the annotated tag, ### headings included', async () => {
    repo.commit('feat(api): list orders (#12)');
    const head = repo.commit('fix: rounding of totals');

    const { outputs } = await tagLocally({ version: '1.0.0' });

    expect(outputs.created).toBe('true');
    expect(repo.git('rev-list', '-n', '1', 'v1.0.0').trim()).toBe(head);
    expect(repo.git('cat-file', '-t', 'v1.0.0').trim()).toBe('tag');
    const message = repo.git('tag', '-l', '--format=%(contents)', 'v1.0.0');
    expect(outputs.notes).toContain('### Features');
    expect(message).toBe(`v1.0.0\n\n${outputs.notes}\n\n`);
    expect(message).toMatch(/^### Features$/m);
    expect(message).toMatch(/^### Fixes$/m);
  });

  it('tags the target it is given, and fails with one line naming the input when the target is not a commit', async () => {
    const first = repo.commit('feat: one');
    repo.commit('feat: two');

    const { outputs } = await tagLocally({ version: '0.1.0', target: first });
    expect(outputs.tag).toBe('v0.1.0');
    expect(repo.git('rev-list', '-n', '1', 'v0.1.0').trim()).toBe(first);

    const err = await tagLocally({ version: '0.2.0', target: 'no-such-branch' }).catch((e: unknown) => e);
    expect(isUserError(err)).toBe(true);
    expect((err as Error).message).toBe(
      'input "target": expected a commit of the repository (a SHA, branch or tag), got "no-such-branch", which is not one',
    );
    expect(repo.git('tag', '-l', 'v0.2.0').trim()).toBe('');
  });

  it('refuses a tag name git would take for an option, naming the input', async () => {
    repo.commit('feat: one');
    const err = await tagLocally({ version: '0.1.0', tag: '-d' }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('input "tag": expected a valid git tag name such as v1.2.0, got "-d"');
    expect(repo.git('tag', '-l').trim()).toBe('');
  });

  it('fails with one line in a repository without a commit', async () => {
    const err = await tagLocally({ version: '0.1.0' }).catch((e: unknown) => e);
    expect(isUserError(err)).toBe(true);
    expect((err as Error).message).toMatch(/^input "target": the repository in .* has no commit to tag yet/);
  });
});

describe('tag-release locally, components', () => {
  it("tags each component whose series moved, with its own commits' notes, and only once", async () => {
    repo.commit('chore: scaffold', {
      '.github/slipway.yml': 'components:\n  py: { paths: [py/**], tag: "py/{version}" }\n  rb: { paths: [rb/**] }\n',
    });
    repo.tag('py/1.0.0');
    repo.commit('fix(py): retries', { 'py/a.py': '1\n' });
    repo.commit('fix(api): other', { 'api/a.go': '1\n' });
    const components = JSON.stringify({
      py: { version: '1.0.1', release: true, tag: 'py/1.0.1' },
      rb: { version: '0.1.0', release: false, tag: 'rb-v0.1.0' },
    });
    const { outputs } = await tagLocally({ version: '', components });
    expect(outputs.tag).toBe('');
    expect(JSON.parse(outputs.components)).toEqual({
      py: { tag: 'py/1.0.1', created: true, 'release-id': '', 'release-url': '' },
    });
    const message = repo.git('tag', '-l', '--format=%(contents)', 'py/1.0.1');
    expect(message).toContain('retries');
    expect(message).not.toContain('other');
    expect(repo.git('tag', '-l', 'rb-*').trim()).toBe('');
    const again = await tagLocally({ version: '', components });
    expect(JSON.parse(again.outputs.components).py.created).toBe(false);
    await expect(tagLocally({ version: '' })).rejects.toThrow(/^input "version" is required/);
  });
});
