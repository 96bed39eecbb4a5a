import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/core/config.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
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
    expect(config.components['acme-ui']).toMatchObject({ paths: ['packages/ui/**'], dependsOn: [], series: 'product' });
    expect(config.components['api-client'].dependsOn).toEqual(['acme-ui']);
    expect(config.components.web).toMatchObject({ paths: ['apps/web/**'] });
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
    expect(config.components.worker).toMatchObject({ paths: ['services/group/worker/**'], dependsOn: ['api'] });
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
      paths: ['apps/web/**'],
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
});
