/** Real git repositories for tests, built with the git CLI. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A temporary repository with helpers to commit, tag and branch. */
export interface TestRepo {
  dir: string;
  git(...args: string[]): string;
  /** Write files (path → content) and commit them with `message`; returns the SHA. */
  commit(message: string, files?: Record<string, string>): string;
  /** Remove files and commit. */
  remove(message: string, ...files: string[]): string;
  tag(name: string, ref?: string, annotated?: boolean): void;
  head(): string;
  cleanup(): void;
}

const ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_TERMINAL_PROMPT: '0',
};

let counter = 0;

/** Create an empty repository on branch `main` (or `dir` when given, e.g. a clone). */
export function createRepo(options: { dir?: string; branch?: string } = {}): TestRepo {
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'slipway-repo-'));
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: dir, env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (!options.dir) {
    git('init', '-q', '-b', options.branch ?? 'main');
    git('config', 'commit.gpgsign', 'false');
    git('config', 'tag.gpgsign', 'false');
  }
  const repo: TestRepo = {
    dir,
    git,
    commit(message, files) {
      const content = files ?? { [`file-${++counter}.txt`]: `${message}\n${counter}\n` };
      for (const [file, text] of Object.entries(content)) {
        const abs = path.join(dir, file);
        mkdirSync(path.dirname(abs), { recursive: true });
        writeFileSync(abs, text);
        git('add', '--', file);
      }
      git('commit', '-q', '--allow-empty', '-m', message);
      return repo.head();
    },
    remove(message, ...files) {
      git('rm', '-q', '--', ...files);
      git('commit', '-q', '-m', message);
      return repo.head();
    },
    tag(name, ref = 'HEAD', annotated = true) {
      if (annotated) git('tag', '-a', name, '-m', name, ref);
      else git('tag', name, ref);
    },
    head: () => git('rev-parse', 'HEAD').trim(),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  return repo;
}

/** Clone `source` into a new temporary folder through file:// (so --depth works). */
export function cloneRepo(source: TestRepo, args: string[] = []): TestRepo {
  const parent = mkdtempSync(path.join(tmpdir(), 'slipway-clone-'));
  const dir = path.join(parent, 'c');
  execFileSync('git', ['clone', '-q', ...args, `file://${source.dir}`, dir], { env: ENV, stdio: 'ignore' });
  const repo = createRepo({ dir });
  const cleanup = repo.cleanup;
  repo.cleanup = () => {
    cleanup();
    rmSync(parent, { recursive: true, force: true });
  };
  return repo;
}
