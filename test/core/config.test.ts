import { afterEach, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dependencyMap, loadConfig, parseConfig } from '../../src/core/config.js';
import { isUserError } from '../../src/core/errors.js';
import { waves } from '../../src/core/graph.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

function errorOf(text: string): string {
  try {
    parseConfig(text, '.github/slipway.yml');
  } catch (err) {
    expect(isUserError(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected the config to be rejected');
}

describe('the policy file', () => {
  it('parses components, versioning and environments with defaults', () => {
    const config = parseConfig(
      [
        'versioning:',
        '  tag: "v{version}"',
        'components:',
        '  postgres: { kind: data }',
        '  schema: { kind: migrations, dependsOn: [postgres], migrate: { dir: db/migrations, database: { env: DATABASE_URL } } }',
        '  backend:',
        '    paths: [services/backend/**]',
        '    dependsOn: [schema]',
        '    deploy: { target: command, run: "./deploy.sh", rollback: "./rollback.sh" }',
        '    health: [ { http: /health, expect: { status: 200 } } ]',
        '  frontend: { paths: [web/**], dependsOn: [backend] }',
        'environments:',
        '  staging: { url: https://staging.example.com }',
        '  production: { url: https://example.com, after: staging }',
      ].join('\n'),
      'slipway.yml',
    );
    expect(Object.keys(config.components)).toEqual(['postgres', 'schema', 'backend', 'frontend']);
    expect(config.components.schema.migrate).toEqual({
      dir: 'db/migrations',
      database: { env: 'DATABASE_URL' },
      tool: 'builtin',
    });
    expect(config.components.frontend.paths).toEqual(['web/**']);
    expect(config.components.postgres.paths).toEqual([]);
    expect(config.versioning.initial).toBe('0.1.0');
    expect(config.versioning.branches[0]).toEqual({ match: 'main', channel: 'stable' });
    expect(config.environments.production.after).toBe('staging');
    expect(waves(dependencyMap(config))).toEqual([['postgres'], ['schema'], ['backend'], ['frontend']]);
    expect(config.locate(['components', 'backend', 'health', 0])).toEqual({
      file: 'slipway.yml',
      line: 10,
      column: 15,
    });
  });

  it.each([
    [
      'components:\n  api:\n    paths: services/api/**\n',
      /:3:5: components\.api\.paths: expected array, received string$/,
    ],
    ['components:\n  api:\n    dependOn: [db]\n', /:3:5: components\.api\.dependOn: unknown key "dependOn"$/],
    [
      'components:\n  api: { dependsOn: [db] }\n',
      /:2:22: components\.api\.dependsOn\[0\]: unknown component "db" \(expected one of: api\)$/,
    ],
    ['versioning:\n  tag: "v"\n', /:2:3: versioning\.tag: expected a tag template with \{version\} once/],
    [
      'components:\n  api: { paths: [api/**], tag: "api {version}" }\n',
      /:2:27: components\.api\.tag: expected a tag template with \{version\} once that makes a valid git tag name/,
    ],
    [
      'versioning:\n  tag: "bad..tag{version}"\n',
      /:2:3: versioning\.tag: expected a tag template with \{version\} once/,
    ],
    [
      'versioning:\n  tag: "{version}-{version}"\n',
      /:2:3: versioning\.tag: expected a tag template with \{version\} once/,
    ],
    [
      'versioning:\n  branches:\n    - { match: main, channel: gold }\n',
      /:3:22: versioning\.branches\[0\]\.channel: expected one of stable, rc, beta, alpha, none$/,
    ],
    [
      'versioning:\n  branches:\n    - { match: "release/*", channel: rc, prerelease: "01" }\n',
      /:3:42: versioning\.branches\[0\]\.prerelease: expected one prerelease identifier \(letters, digits and -, all-digit without a leading zero\), e\.g\. beta$/,
    ],
    ['components:\n  api: { deploy: { target: command } }\n', /components\.api\.deploy: a command target needs "run"/],
    [
      'components:\n  web:\n    deploy: { target: release, path: /srv/web, artifact: dist, keeep: 3 }\n',
      /:3:64: components\.web\.deploy\.keeep: unknown key "keeep" for target release \(expected one of: path, artifact, activate, keep, ssh\)$/,
    ],
    [
      'components:\n  web:\n    deploy:\n      target: release\n      path: /srv/web\n      artifact: dist\n      ssh: { host: h, prot: 2299, user: u, key: { env: K }, knownHosts: { env: H } }\n',
      /:7:23: components\.web\.deploy\.ssh\.prot: unknown key "prot" in ssh \(expected one of: host, port, user, key, knownHosts\)$/,
    ],
    [
      'components:\n  api:\n    deploy:\n      target: compose\n      service: api\n      ssh: { host: h, user: u, key: { env: K }, knownHosts: { env: H } }\n',
      /:6:7: components\.api\.deploy\.ssh: the compose target runs docker compose on this machine and does not read ssh \(for a remote Docker engine, set DOCKER_HOST=ssh:\/\/user@host in env\)$/,
    ],
    [
      'components:\n  api:\n    deploy:\n      target: nginx\n      slots: { blue: "unix:/b", green: "unix:/g", red: "unix:/r" }\n',
      /:5:51: components\.api\.deploy\.slots\.red: unknown key "red" in slots \(expected one of: blue, green\)$/,
    ],
    [
      'components:\n  api:\n    deploy: { run: "true", tiemout: 5 }\n',
      /components\.api\.deploy\.tiemout: unknown key "tiemout" for target command/,
    ],
    [
      'components:\n  api:\n    migrate: { dir: db }\n    deploy: { run: "true" }\n',
      /:4:5: components\.api\.deploy: a component with migrate: is the migrations step, and its deploy: would never run/,
    ],
    ['environments:\n  prod: { after: stage }\n', /:2:11: environments\.prod\.after: unknown environment "stage"/],
    // The health checks' relative URLs are appended to it: a query would swallow them.
    [
      'environments:\n  staging: { url: "https://staging.example.com/?token=1" }\n',
      /:2:14: environments\.staging\.url: expected an http\(s\) URL without a query or fragment, such as https:\/\/staging\.example\.com$/,
    ],
    [
      'environments:\n  staging:\n    url: staging.example.com\n',
      /:3:5: environments\.staging\.url: expected an http\(s\) URL/,
    ],
    // versioning.initial is checked as semver itself: a leading zero, a missing part or a number YAML read.
    [
      'versioning:\n  tag: "v{version}"\n  initial: 01.0.0\n',
      /:3:3: versioning\.initial: expected a semantic version like 0\.1\.0 or 1\.0\.0-rc\.1 \(no leading zeros\), got "01\.0\.0"$/,
    ],
    [
      'versioning:\n  initial: 1.0.0-01\n',
      /:2:3: versioning\.initial: expected a semantic version like 0\.1\.0 or 1\.0\.0-rc\.1 \(no leading zeros\), got "1\.0\.0-01"$/,
    ],
    [
      'versioning:\n\n  initial: "1.0"\n',
      /:3:3: versioning\.initial: expected a semantic version like 0\.1\.0 .*, got "1\.0"$/,
    ],
    [
      'versioning:\n  initial: 1.0\n',
      /:2:3: versioning\.initial: expected a semantic version like 0\.1\.0 .*, got a number$/,
    ],
    ['components: [a, b\n', /^\.github\/slipway\.yml:2:1: invalid YAML: /],
    ['- just\n- a list\n', /^\.github\/slipway\.yml:1:1: expected a mapping/],
  ])('rejects %j with a located one-line error', (text, expected) => {
    const message = errorOf(text);
    expect(message).toMatch(expected);
    expect(message).toMatch(/^\.github\/slipway\.yml/);
    expect(message).not.toContain('\n');
  });

  it('accepts a prerelease identifier of one part, all-digit ones without a leading zero', () => {
    for (const id of ['beta', 'rc-1', '0', '7', '0a'])
      expect(
        parseConfig(
          `versioning:\n  branches:\n    - { match: "*", channel: beta, prerelease: "${id}" }\n`,
          '.github/slipway.yml',
        ).versioning.branches[0].prerelease,
      ).toBe(id);
  });

  it('names the cycle in dependsOn', () => {
    const message = errorOf('components:\n  a: { dependsOn: [c] }\n  b: { dependsOn: [a] }\n  c: { dependsOn: [b] }\n');
    expect(message).toMatch(/^\.github\/slipway\.yml:2:8: components\.a\.dependsOn: dependency cycle: a → c → b → a$/);
  });

  it('uses defaults when the default file is missing, and fails when a named one is', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'slipway-config-'));
    dirs.push(dir);
    const config = await loadConfig(dir, '');
    expect(config.file).toBeNull();
    expect(config.versioning.tag).toBe('v{version}');
    await expect(loadConfig(dir, 'deploy/slipway.yml')).rejects.toThrow(
      'input "config": expected the path of a policy file in the repository, got "deploy/slipway.yml" (no such file)',
    );
  });

  it('fails on an unreadable file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'slipway-config-'));
    dirs.push(dir);
    mkdirSync(path.join(dir, '.github'));
    writeFileSync(path.join(dir, '.github/slipway.yml'), 'components: {}\n');
    chmodSync(path.join(dir, '.github/slipway.yml'), 0o000);
    if (process.getuid?.() === 0) {
      // root reads anything: use a folder in the file's place instead.
      rmSync(path.join(dir, '.github/slipway.yml'));
      mkdirSync(path.join(dir, '.github/slipway.yml'));
    }
    await expect(loadConfig(dir, '')).rejects.toThrow(/^config: cannot read \.github\/slipway\.yml: E(ACCES|ISDIR)$/);
  });

  it('defaults without a file; a named file that is missing, and a bad one, are errors', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'slipway-config-'));
    dirs.push(dir);
    expect((await loadConfig(dir, '')).file).toBeNull();
    await expect(loadConfig(dir, 'deploy/slipway.yml')).rejects.toThrow(
      'input "config": expected the path of a policy file in the repository, got "deploy/slipway.yml" (no such file)',
    );
    mkdirSync(path.join(dir, '.github'));
    writeFileSync(path.join(dir, '.github/slipway.yml'), 'components:\n  api: { paths: [api/**] }\n');
    expect(Object.keys((await loadConfig(dir, '')).components)).toEqual(['api']);
    writeFileSync(path.join(dir, '.github/slipway.yml'), 'components:\n  api: { path: [api/**] }\n');
    await expect(loadConfig(dir, '')).rejects.toThrow(
      /^\.github\/slipway\.yml:2:10: components\.api\.path: unknown key/,
    );
  });
});

describe('tag series in the policy file', () => {
  it.each([
    [
      'two components with the same tag',
      [
        'components:',
        '  api:',
        '    paths: [api/**]',
        '    tag: "app-v{version}"',
        '  web:',
        '    paths: [web/**]',
        '    tag: "app-v{version}"',
      ],
      /^\.github\/slipway\.yml:7:5: components\.web\.tag: tag template "app-v\{version\}" is also used by component "api" \(line 4\): two tag series cannot share a template$/,
    ],
    [
      "a versioned component with the repository's tag",
      ['versioning:', '  tag: "v{version}"', 'components:', '  api:', '    paths: [api/**]', '    tag: "v{version}"'],
      /^\.github\/slipway\.yml:6:5: components\.api\.tag: tag template "v\{version\}" is also used by the repository's series \(versioning\.tag\) \(line 2\)/,
    ],
    [
      'a versioned component with the default repository tag',
      ['components:', '  api: { paths: [api/**], tag: "v{version}" }'],
      /^\.github\/slipway\.yml:2:27: components\.api\.tag: tag template "v\{version\}" is also used by the repository's series \(versioning\.tag\): two/,
    ],
    [
      "versioning written after the component: the later line is versioning.tag's",
      [
        'components:',
        '  api:',
        '    paths: [api/**]',
        '    tag: "rel-{version}"',
        'versioning:',
        '  tag: "rel-{version}"',
      ],
      /^\.github\/slipway\.yml:6:3: versioning\.tag: tag template "rel-\{version\}" is also used by component "api" \(line 4\)/,
    ],
    [
      "a tag equal to another component's default",
      ['components:', '  api: { paths: [api/**] }', '  web:', '    paths: [web/**]', '    tag: "api-v{version}"'],
      /^\.github\/slipway\.yml:5:5: components\.web\.tag: tag template "api-v\{version\}" is also used by component "api" \(line 2\)/,
    ],
    [
      "a default equal to an earlier component's tag",
      ['components:', '  web: { paths: [web/**], tag: "api-v{version}" }', '  api: { paths: [api/**] }'],
      /^\.github\/slipway\.yml:3:3: components\.api: tag template "api-v\{version\}" is also used by component "web" \(line 2\) \(the default of component "api"\)/,
    ],
  ])('refuses %s, pointing at the second', (_what, lines, expected) => {
    const message = errorOf(lines.join('\n') + '\n');
    expect(message).toMatch(expected);
    expect(message).not.toContain('\n');
  });

  it('accepts distinct series, and a component without paths under the repository tag', () => {
    const config = parseConfig(
      [
        'versioning: { tag: "v{version}" }',
        'components:',
        '  api: { paths: [api/**], tag: "api-v{version}" }',
        '  web: { paths: [web/**] }',
        '  postgres: { kind: data, tag: "v{version}" }',
        '  schema: { migrate: { dir: db }, tag: "schema-{version}" }',
      ].join('\n'),
      '.github/slipway.yml',
    );
    expect(Object.keys(config.components)).toEqual(['api', 'web', 'postgres', 'schema']);
  });
});
