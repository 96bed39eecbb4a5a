import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ComponentIndex, compileGlobs } from '../../src/changes/patterns.js';
import { loadConfig } from '../../src/core/config.js';
import { Git } from '../../src/core/git.js';
import { ROOT_FILES, discoverWorkspaces, type WorkspacePackage } from '../../src/core/workspaces.js';
import { createRepo, type TestRepo } from '../helpers/git-repo.js';

const dirs: string[] = [];
const repos: TestRepo[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
  while (repos.length) repos.pop()!.cleanup();
});

/** A repository folder holding `files` (path → content; objects are written as JSON). */
function folder(files: Record<string, string | object>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-ws-'));
  dirs.push(dir);
  for (const [file, content] of Object.entries(files)) {
    const abs = path.join(dir, file);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

const pkg = (name: string, deps: Record<string, Record<string, string>> = {}) => ({ name, version: '1.0.0', ...deps });

describe('workspaces: components from the package manager', () => {
  it("reads npm's workspaces: one component per package, its folder as paths, workspace dependencies as dependsOn", async () => {
    const dir = folder({
      '.github/slipway.yml': 'workspaces: true\n',
      'package.json': { name: 'root', private: true, workspaces: ['packages/*', 'apps/*'] },
      'packages/ui/package.json': pkg('@acme/ui', { dependencies: { react: '^18' } }),
      'packages/api-client/package.json': pkg('api-client', { devDependencies: { '@acme/ui': '*' } }),
      'apps/web/package.json': pkg('web', {
        dependencies: { '@acme/ui': 'workspace:*' },
        peerDependencies: { 'api-client': '*' },
      }),
      'apps/notes/README.md': 'not a package: no package.json\n',
      'packages/ui/node_modules/x/package.json': pkg('x'),
    });
    const config = await loadConfig(dir);
    expect(Object.keys(config.components).sort()).toEqual(['acme-ui', 'api-client', 'web']);
    expect(config.components['acme-ui']).toMatchObject({
      paths: ['packages/ui/**', ...ROOT_FILES],
      dependsOn: [],
      series: 'product',
    });
    expect(config.components['api-client'].dependsOn).toEqual(['acme-ui']);
    expect(config.components.web).toMatchObject({ paths: ['apps/web/**', ...ROOT_FILES] });
    expect(config.components.web.dependsOn.sort()).toEqual(['acme-ui', 'api-client']);
  });

  it("reads yarn's { packages } form and pnpm-workspace.yaml with an exclusion and a ** glob", async () => {
    const yarn = folder({
      '.github/slipway.yml': 'workspaces: true\n',
      'package.json': { private: true, workspaces: { packages: ['libs/*'] } },
      'libs/a/package.json': pkg('a'),
    });
    expect(Object.keys((await loadConfig(yarn)).components)).toEqual(['a']);

    const pnpm = folder({
      '.github/slipway.yml': 'workspaces: true\n',
      'package.json': { name: 'root', private: true },
      'pnpm-workspace.yaml': "packages:\n  - 'services/**'\n  - '!services/legacy'\n",
      'services/api/package.json': pkg('api'),
      'services/group/worker/package.json': pkg('worker', { dependencies: { api: 'workspace:^' } }),
      'services/legacy/package.json': pkg('legacy'),
    });
    const config = await loadConfig(pnpm);
    expect(Object.keys(config.components).sort()).toEqual(['api', 'worker']);
    expect(config.components.worker).toMatchObject({
      paths: ['services/group/worker/**', ...ROOT_FILES],
      dependsOn: ['api'],
    });
  });

  it('merges with the components the file lists: the file wins where it speaks, the workspace fills the rest', async () => {
    const dir = folder({
      '.github/slipway.yml': [
        'workspaces: { packages: ["apps/*", "packages/*"], series: own }',
        'components:',
        '  web:',
        '    deploy: { run: "echo deploy" }',
        '  ui: { paths: [packages/ui/src/**], tag: "ui/{version}" }',
        '  db: { paths: [db/**] }',
        '',
      ].join('\n'),
      'apps/web/package.json': pkg('web', { dependencies: { ui: '*' } }),
      'packages/ui/package.json': pkg('ui'),
    });
    const config = await loadConfig(dir);
    expect(config.components.web).toMatchObject({
      paths: ['apps/web/**', ...ROOT_FILES],
      dependsOn: ['ui'],
      series: 'own',
      deploy: { run: 'echo deploy' },
    });
    expect(config.components.ui).toMatchObject({ paths: ['packages/ui/src/**'], tag: 'ui/{version}' });
    expect(config.components.ui.series).toBeUndefined();
    expect(config.components.db.paths).toEqual(['db/**']);
  });

  it('refuses, in one line naming the file, what cannot become components', async () => {
    const bad = (files: Record<string, string | object>) =>
      loadConfig(folder({ '.github/slipway.yml': 'workspaces: true\n', ...files }));
    await expect(bad({ 'package.json': { name: 'root' } })).rejects.toThrow(
      /^\.github\/slipway\.yml: workspaces: no workspaces found \(expected "workspaces" in package\.json, "packages" in pnpm-workspace\.yaml/,
    );
    await expect(
      bad({
        'package.json': { workspaces: ['p/*'] },
        'p/a/package.json': '{\n  "name": "a",\n  "version": 1.0.0\n}\n',
      }),
    ).rejects.toThrow(/^p\/a\/package\.json:3: invalid JSON in a workspace package's manifest/);
    await expect(
      bad({
        'package.json': { workspaces: ['p/*', 'q/*'] },
        'p/a/package.json': pkg('@x/a'),
        'q/a/package.json': pkg('x-a'),
      }),
    ).rejects.toThrow(
      'q/a/package.json: package "x-a" becomes component "x-a", as p/a/package.json does (.github/slipway.yml: workspaces: two workspace packages cannot share a name)',
    );
    await expect(
      bad({
        'package.json': { workspaces: ['p/*'] },
        'p/a/package.json': pkg('a', { dependencies: { b: '*' } }),
        'p/b/package.json': pkg('b', { devDependencies: { a: '*' } }),
      }),
    ).rejects.toThrow(
      /^\.github\/slipway\.yml:1:1: workspaces: dependency cycle: a → b → a \(from the workspace packages' package\.json dependencies\)$/,
    );
    await expect(loadConfig(folder({ '.github/slipway.yml': 'workspaces: { packages: [] }\n' }))).rejects.toThrow(
      /^\.github\/slipway\.yml:1:.*workspaces\.packages/,
    );
  });

  describe('which files select a workspace package', () => {
    /** A git repository holding pnpm's `packages/**` workspace with @s/p nested in @s/a, and @s/b beside it. */
    function nestedRepo(): TestRepo {
      const r = createRepo();
      repos.push(r);
      r.commit('init', {
        '.github/slipway.yml': 'workspaces: true\n',
        'package.json': JSON.stringify({ name: 'root', private: true }),
        'pnpm-workspace.yaml': "packages: ['packages/**']\n",
        'pnpm-lock.yaml': "lockfileVersion: '9.0'\n",
        'packages/a/package.json': JSON.stringify(pkg('@s/a')),
        'packages/a/index.js': '1\n',
        'packages/a/plugins/p/package.json': JSON.stringify(pkg('@s/p')),
        'packages/a/plugins/p/i.js': '1\n',
        'packages/a/plugins/p/deep/q/package.json': JSON.stringify(pkg('@s/q')),
        'packages/b/package.json': JSON.stringify(pkg('@s/b')),
      });
      return r;
    }
    const index = (found: WorkspacePackage[]) =>
      new ComponentIndex(found.map((p) => ({ name: p.name, groups: [{ patterns: p.paths }], dependsOn: p.dependsOn })));
    const byName = (found: WorkspacePackage[], name: string) => found.find((p) => p.name === name)!;

    it("a nested package's file belongs to the innermost package only: the outer package's paths exclude its folder", async () => {
      const r = nestedRepo();
      const found = discoverWorkspaces(r.dir, undefined, 'workspaces');
      const config = await loadConfig(r.dir);
      for (const p of found) expect(config.components[p.name].paths).toEqual(p.paths);
      const [a, p, q] = ['s-a', 's-p', 's-q'].map((n) => byName(found, n));
      expect(a.paths).toEqual(['packages/a/**', '!packages/a/plugins/p/**', ...ROOT_FILES]);
      expect(p.paths).toEqual(['packages/a/plugins/p/**', '!packages/a/plugins/p/deep/q/**', ...ROOT_FILES]);
      expect(q.paths).toEqual(['packages/a/plugins/p/deep/q/**', ...ROOT_FILES]);

      // build-selective: picomatch's `!` excludes.
      expect(compileGlobs(a.paths)('packages/a/plugins/p/i.js')).toBe(false);
      expect(compileGlobs(p.paths)('packages/a/plugins/p/i.js')).toBe(true);
      expect(compileGlobs(a.paths)('packages/a/index.js')).toBe(true);
      expect(compileGlobs(a.paths)('packages/a/plugins/p/deep/q/x.js')).toBe(false);
      expect(index(found).match('packages/a/plugins/p/i.js', 'modified')).toEqual(['s-p']);
      expect(index(found).match('packages/a/plugins/p/deep/q/x.js', 'added')).toEqual(['s-q']);
      expect(index(found).match('packages/a/index.js', 'modified')).toEqual(['s-a']);

      // version-bump: the same globs as git pathspecs (`!x` is `:(exclude)x`).
      const base = r.head();
      r.commit('fix(p): inner only', { 'packages/a/plugins/p/i.js': '2\n' });
      const git = new Git(r.dir);
      expect(await git.countCommits([`${base}..HEAD`], a.paths)).toBe(0);
      expect(await git.countCommits([`${base}..HEAD`], p.paths)).toBe(1);
      r.commit('fix(a): outer', { 'packages/a/index.js': '2\n' });
      expect(await git.countCommits([`${base}..HEAD`], a.paths)).toBe(1);
    });

    it('a change to the root package.json, a root lockfile or pnpm-workspace.yaml selects every workspace package', async () => {
      const r = nestedRepo();
      const found = discoverWorkspaces(r.dir, undefined, 'workspaces');
      const all = ['s-a', 's-b', 's-p', 's-q'];
      for (const file of ROOT_FILES) {
        expect(index(found).match(file, 'modified').sort()).toEqual(all);
        for (const p of found) expect(compileGlobs(p.paths)(file)).toBe(true);
      }
      // Only the root's: a package's own manifest or a lockfile in a subfolder is not a root file.
      expect(index(found).match('packages/a/plugins/p/package.json', 'modified')).toEqual(['s-p']);
      expect(index(found).match('docs/yarn.lock', 'modified')).toEqual([]);

      const base = r.head();
      r.commit('chore(deps): bump', { 'pnpm-lock.yaml': "lockfileVersion: '9.1'\n" });
      const git = new Git(r.dir);
      for (const p of found) expect(await git.countCommits([`${base}..HEAD`], p.paths)).toBe(1);
      // A lockfile that no longer exists counts too: its deletion is a change to what is installed.
      r.commit('chore: to yarn', { 'yarn.lock': '# yarn\n' });
      const switched = r.head();
      r.remove('chore: back to pnpm', 'yarn.lock');
      const after = discoverWorkspaces(r.dir, undefined, 'workspaces');
      for (const p of after) expect(await git.countCommits([`${switched}..HEAD`], p.paths)).toBe(1);
    });
  });
});
