/**
 * The policy file, `.github/slipway.yml`: one description of the product that all six
 * actions read. Parsed with `yaml`, validated with zod; every error names the file, the
 * line and column, the key path and what was expected.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
// The single function, not the package index (which loads ranges and everything else).
import valid from 'semver/functions/valid.js';
import { z } from 'zod';
import { UserError, type ErrorLocation } from './errors.js';
import { findCycle } from './graph.js';
import { repoGlob } from './repo-glob.js';
import { formatTag, isValidTagName } from './tag-template.js';
import { discoverWorkspaces } from './workspaces.js';
import { parseYaml, validateYaml, type YamlSource } from './yaml-source.js';

/** The default location of the policy file, relative to the repository. */
export const DEFAULT_CONFIG_PATH = '.github/slipway.yml';

/** The default branching policy; the first rule that matches a branch wins. */
export const DEFAULT_BRANCHES: BranchRule[] = [
  { match: 'main', channel: 'stable' },
  { match: 'master', channel: 'stable' },
  { match: 'release/*', channel: 'rc' },
  { match: 'hotfix/*', channel: 'stable', bump: 'patch' },
  { match: '*', channel: 'none' },
];

/** The configuration used when there is no policy file. */
function defaultConfig(): SlipwayConfig {
  return {
    file: null,
    versioning: { tag: 'v{version}', initial: '0.1.0', branches: DEFAULT_BRANCHES },
    components: {},
    environments: {},
    notify: [],
    locate: () => ({}),
    errorAt: (p, m) => new UserError(`${p.map(String).join('.')}: ${m}`),
  };
}

/** The tag template of the repository's own series. */
export function tagTemplateFor(config: SlipwayConfig): string {
  return config.versioning.tag;
}

/**
 * Whether a component has a version series of its own (`own`) or follows the repository's
 * (`product`: deployed at the product version, no tag of its own). `series` in the policy
 * file, else `own` for a component with paths or migrations, whose commits move it.
 */
export function componentSeries(c: {
  series?: 'own' | 'product';
  paths: readonly string[];
  migrate?: unknown;
}): 'own' | 'product' {
  return c.series ?? (c.paths.length > 0 || c.migrate !== undefined ? 'own' : 'product');
}

/** A component's tag template: its own, else `<name>-v{version}` so series never collide. */
export function componentTagTemplate(name: string, c: { tag?: string }): string {
  return c.tag ?? `${name}-v{version}`;
}

/** The named component, or a UserError listing the ones that exist. */
export function requireComponent(config: SlipwayConfig, name: string, input = 'component'): ComponentConfig {
  const c = config.components[name];
  if (!c) {
    const known = Object.keys(config.components);
    throw new UserError(
      `${input}: unknown component "${name}" in ${config.file ?? 'the default configuration'} (expected ${known.length ? `one of: ${known.join(', ')}` : 'no component: there is no policy file'})`,
    );
  }
  return c;
}

/** A template that makes a tag git accepts for every version: `{version}` once, and legal characters around it. */
const tagTemplate = z
  .string()
  .refine((t) => t.split('{version}').length === 2 && isValidTagName(formatTag(t, '1.2.3-rc.1')), {
    message:
      'expected a tag template with {version} once that makes a valid git tag name, e.g. "v{version}" or "api/v{version}" (no spaces, "..", ":", "~", "^", "?", "*", "[", "\\")',
  });

const SEMVER_EXPECTED = 'expected a semantic version like 0.1.0 or 1.0.0-rc.1 (no leading zeros)';

/**
 * X.Y.Z[-pre], checked by semver itself: the pattern alone lets a leading zero through
 * (01.0.0, 1.0.0-01), which version-bump would then refuse without the file's line.
 */
const semverString = z
  // An unquoted 1.0 is a YAML number: said as such, since its text is lost.
  .string({ error: (iss) => `${SEMVER_EXPECTED}, got a ${typeof iss.input}` })
  .refine((v) => /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(v) && valid(v) !== null, {
    error: (iss) => `${SEMVER_EXPECTED}, got ${JSON.stringify(iss.input)}`,
  });

const channel = z.enum(['stable', 'rc', 'beta', 'alpha', 'none'], {
  message: 'expected one of stable, rc, beta, alpha, none',
});
const bumpKind = z.enum(['major', 'minor', 'patch'], { message: 'expected one of major, minor, patch' });

const branchRule = z.strictObject({
  match: z.string().min(1),
  channel,
  bump: bumpKind.optional(),
  /** On a prerelease channel, what a component with its own series gets: its own next version as a candidate, or none. */
  ownSeries: z.enum(['candidate', 'none'], { message: 'expected candidate or none' }).optional(),
  /** The prerelease identifier of this channel (default: the channel's name). */
  prerelease: z
    .string()
    .regex(/^(?!0\d+$)[0-9A-Za-z-]+$/, {
      message:
        'expected one prerelease identifier (letters, digits and -, all-digit without a leading zero), e.g. beta',
    })
    .optional(),
});

const envRef = z.strictObject({
  env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'expected an environment variable name' }),
});

/** A glob of repository paths, `./` or not (git reports paths without it). */
const globSchema = z.string().min(1).transform(repoGlob);

const migrateSchema = z.strictObject({
  dir: z
    .string()
    .transform((d) => repoGlob(d).replace(/\/+$/, '') || '.')
    .default('migrations'),
  database: envRef.optional(),
  tool: z.enum(['builtin', 'command']).default('builtin'),
  /** The folder's migration format for the built-in runner (default: detected). */
  format: z.enum(['auto', 'slipway', 'golang-migrate', 'goose', 'dbmate', 'flyway', 'prisma']).optional(),
  command: z.string().optional(),
  table: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/, {
      message: 'expected a table name such as slipway_migrations or ops.migrations (letters, digits, _)',
    })
    .optional(),
  /** A reviewed destructive migration may run (the migrate action's allow-destructive, for this component). */
  allowDestructive: z.boolean().optional(),
});

/**
 * The keys each built-in target reads (docs/deploy.md): the mapping stays open for targets
 * added in code, but a misspelt key of a built-in one (`keeep: 3`) must not be ignored.
 */
const SSH_KEY = ['ssh'];
const NGINX_KEYS = [
  'slots',
  'start',
  'stop',
  'switch',
  'link',
  'config',
  'drain',
  'upstream',
  'nginx',
  'prefix',
  'pid',
  'strategy',
  'steps',
  'abort',
  'splitOn',
];
const TARGET_KEYS: Readonly<Record<string, readonly string[]>> = {
  command: ['run', 'rollback', 'status', 'timeout'],
  release: ['path', 'artifact', 'activate', 'keep', ...SSH_KEY],
  nginx: [...NGINX_KEYS, ...SSH_KEY],
  compose: ['file', 'project', 'service', 'image', 'variable', 'env', 'timeout', 'zeroDowntime', ...NGINX_KEYS],
  kubernetes: ['resource', 'container', 'image', 'manifests', 'namespace', 'context', 'kubeconfig', 'timeout'],
};

const deploySchema = z.looseObject({
  target: z.string().default('command'),
  run: z.string().optional(),
  rollback: z.string().optional(),
  status: z.string().optional(),
  timeout: z.number().int().positive().optional(),
});

const buildSchema = z.strictObject({
  run: z.string().min(1),
  inputs: z.array(globSchema).optional(),
  /** Files the build leaves behind, restored from the build cache on a hit. */
  outputs: z.array(globSchema).optional(),
});

const componentSchema = z.strictObject({
  kind: z.enum(['service', 'data', 'migrations', 'frontend', 'proxy', 'worker', 'library']).optional(),
  paths: z.array(globSchema).default([]),
  dependsOn: z.array(z.string()).default([]),
  /** Deploy order only: deployed after these, never rebuilt or re-versioned because they changed. */
  deployAfter: z.array(z.string()).default([]),
  tag: tagTemplate.optional(),
  /** own: a tag series of its own (the default with paths); product: the repository's version and tags. */
  series: z.enum(['own', 'product'], { message: 'expected own or product' }).optional(),
  build: buildSchema.optional(),
  deploy: deploySchema.optional(),
  health: z.array(z.record(z.string(), z.unknown())).default([]),
  migrate: migrateSchema.optional(),
});

/**
 * Where an environment answers: the health checks' relative URLs are appended to its path, so
 * a query or fragment would swallow them (`/?a=1` + `/health` is `/?a=1/health`).
 */
const environmentUrl = z.string().refine(
  (u) => {
    try {
      const url = new URL(u);
      return /^https?:$/.test(url.protocol) && !url.search && !url.hash && !u.includes('?') && !u.includes('#');
    } catch {
      return false;
    }
  },
  { message: 'expected an http(s) URL without a query or fragment, such as https://staging.example.com' },
);

const environmentSchema = z.strictObject({
  url: environmentUrl.optional(),
  after: z.string().optional(),
});

/** Every event a notification can subscribe to. */
export const NOTIFY_EVENTS = [
  'deploy-started',
  'deploy-succeeded',
  'deploy-failed',
  'deploy-rolled-back',
  'migration-failed',
  'release-published',
] as const;
/** What an entry without `events` receives: everything but deploy-started, which would double the messages. */
const DEFAULT_NOTIFY_EVENTS = NOTIFY_EVENTS.filter((e) => e !== 'deploy-started');
const notifyEvents = z.array(z.enum(NOTIFY_EVENTS)).default([...DEFAULT_NOTIFY_EVENTS]);

const webhookNotify = z.strictObject({
  kind: z.enum(['slack', 'discord', 'teams', 'webhook']),
  webhook: envRef,
  events: notifyEvents,
});
const emailAddress = z.string().regex(/^[^\s@<>,]+@[^\s@<>,]+$/, { message: 'expected an email address' });
const emailNotify = z.strictObject({
  kind: z.literal('email'),
  smtp: z.strictObject({ url: envRef }),
  from: emailAddress,
  to: z.union([emailAddress, z.array(emailAddress).min(1)]).transform((to) => (Array.isArray(to) ? to : [to])),
  events: notifyEvents,
});
// An entry without `kind` is a Slack webhook, as every notify entry was before channels existed.
const notifySchema = z.preprocess(
  (v) => (v && typeof v === 'object' && !Array.isArray(v) && !('kind' in v) ? { kind: 'slack', ...v } : v),
  z.discriminatedUnion('kind', [webhookNotify, emailNotify], {
    error: () => 'expected "kind" to be one of slack, discord, teams, webhook, email',
  }),
);

const configSchema = z.strictObject({
  versioning: z
    .strictObject({
      tag: tagTemplate.default('v{version}'),
      initial: semverString.default('0.1.0'),
      branches: z.array(branchRule).optional(),
    })
    .default({ tag: 'v{version}', initial: '0.1.0' }),
  components: z
    .record(
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
        message: 'expected a component name of letters, digits, "-", "_" or "."',
      }),
      componentSchema,
    )
    .default({}),
  environments: z.record(z.string(), environmentSchema).default({}),
  notify: z.array(notifySchema).default([]),
  /** Components from the package manager's workspaces: true, or the folders' globs and their series. */
  workspaces: z
    .union([
      z.boolean(),
      z.strictObject({
        packages: z.array(z.string().min(1)).min(1).optional(),
        series: z.enum(['own', 'product'], { message: 'expected own or product' }).default('product'),
      }),
    ])
    .optional(),
});

/** One rule of the branching policy. */
export type BranchRule = z.infer<typeof branchRule>;
/** A component as written in the policy file, with defaults applied. */
export type ComponentConfig = z.infer<typeof componentSchema> & { name: string };
/** An environment of the policy file. */
type EnvironmentConfig = z.infer<typeof environmentSchema>;
/** A channel to notify: a webhook of some kind, or email over SMTP. */
export type NotifyConfig = z.infer<typeof notifySchema>;
/** A notify entry that posts to a webhook. */
export type WebhookNotifyConfig = z.infer<typeof webhookNotify>;
/** A notify entry that sends email. */
export type EmailNotifyConfig = z.infer<typeof emailNotify>;
/** A component's deploy settings. */
export type DeployConfig = z.infer<typeof deploySchema>;

/** The policy file after validation. */
export interface SlipwayConfig {
  /** The file it came from, or null when defaults are in use. */
  file: string | null;
  versioning: { tag: string; initial: string; branches: BranchRule[] };
  /** Components in declaration order. */
  components: Record<string, ComponentConfig>;
  environments: Record<string, EnvironmentConfig>;
  notify: NotifyConfig[];
  /** The location of a key path in the file, for errors about values checked later. */
  locate(path: readonly PropertyKey[]): ErrorLocation;
  /** A located UserError about the key at `path`. */
  errorAt(path: readonly PropertyKey[], message: string): UserError;
}

/**
 * Load the policy file. `configInput` empty means `.github/slipway.yml`, and a missing
 * default file means defaults; a named file that is missing, unreadable or invalid is an error.
 */
export async function loadConfig(cwd: string, configInput = ''): Promise<SlipwayConfig> {
  const explicit = configInput.trim() !== '';
  const rel = explicit ? configInput.trim() : DEFAULT_CONFIG_PATH;
  const abs = path.resolve(cwd, rel);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) return defaultConfig();
    if (code === 'ENOENT')
      throw new UserError(
        `input "config": expected the path of a policy file in the repository, got ${JSON.stringify(rel)} (no such file)`,
      );
    throw new UserError(`config: cannot read ${rel}: ${code ?? String(err)}`);
  }
  return parseConfig(text, rel, cwd);
}

/**
 * Parse and validate the text of a policy file; `file` is used in messages, and `cwd` is the
 * repository whose workspace packages `workspaces:` reads.
 */
export function parseConfig(text: string, file: string, cwd = process.cwd()): SlipwayConfig {
  const source = parseYaml(text, file);
  if (source.value === null || source.value === undefined) {
    return { ...defaultConfig(), file };
  }
  if (typeof source.value !== 'object' || Array.isArray(source.value)) {
    throw source.errorAt([], 'expected a mapping with versioning, components and environments');
  }
  const parsed = validateYaml(source, configSchema);
  const components: Record<string, ComponentConfig> = {};
  for (const [name, c] of Object.entries(parsed.components)) components[name] = { ...c, name };
  if (parsed.workspaces) addWorkspaceComponents(source, components, parsed.workspaces, cwd);
  checkReferences(source, components, parsed.environments);
  checkTagSeries(source, components, parsed.versioning.tag);
  return {
    file,
    versioning: {
      tag: parsed.versioning.tag,
      initial: parsed.versioning.initial,
      branches: parsed.versioning.branches ?? DEFAULT_BRANCHES,
    },
    components,
    environments: parsed.environments,
    notify: parsed.notify,
    locate: source.locate,
    errorAt: source.errorAt,
  };
}

/**
 * Add the workspace packages as components. A package the file also lists keeps what the file
 * says, and takes its paths and dependencies from the workspace where the file is silent.
 */
function addWorkspaceComponents(
  source: YamlSource,
  components: Record<string, ComponentConfig>,
  spec: true | { packages?: string[]; series: 'own' | 'product' },
  cwd: string,
): void {
  const { packages, series } = spec === true ? { packages: undefined, series: 'product' as const } : spec;
  const found = discoverWorkspaces(cwd, packages, `${source.file}: workspaces`);
  for (const pkg of found) {
    const listed = components[pkg.name];
    if (!listed) {
      components[pkg.name] = {
        name: pkg.name,
        paths: [...pkg.paths],
        dependsOn: pkg.dependsOn,
        deployAfter: [],
        health: [],
        series,
      };
      continue;
    }
    const at = ['components', pkg.name];
    if (!written(source, [...at, 'paths'])) listed.paths = [...pkg.paths];
    if (!written(source, [...at, 'dependsOn'])) listed.dependsOn = pkg.dependsOn;
    if (!written(source, [...at, 'series']) && !written(source, [...at, 'tag'])) listed.series = series;
  }
}

/** The keys of deploy's nested mappings: a typo there (prot: 2299) would quietly take a default. */
const NESTED_KEYS: Record<string, readonly string[]> = {
  ssh: ['host', 'port', 'user', 'key', 'knownHosts'],
  slots: ['blue', 'green'],
};

/** An unknown key inside deploy.ssh or deploy.slots is an error at its line, as one in deploy is. */
function checkNestedKeys(source: YamlSource, name: string, deploy: ComponentConfig['deploy']): void {
  for (const [key, allowed] of Object.entries(NESTED_KEYS)) {
    const value = (deploy as Record<string, unknown> | undefined)?.[key];
    if (!value || typeof value !== 'object' || Array.isArray(value)) continue;
    const unknown = Object.keys(value).find((k) => !allowed.includes(k));
    if (unknown)
      throw source.errorAt(
        ['components', name, 'deploy', key, unknown],
        `unknown key "${unknown}" in ${key} (expected one of: ${allowed.join(', ')})`,
      );
  }
}

/** dependsOn names real components without a cycle; `after` names a real environment. */
function checkReferences(
  source: YamlSource,
  components: Record<string, ComponentConfig>,
  envs: Record<string, EnvironmentConfig>,
): void {
  for (const [name, c] of Object.entries(components)) {
    for (const key of ['dependsOn', 'deployAfter'] as const)
      c[key].forEach((dep, i) => {
        if (!Object.hasOwn(components, dep)) {
          throw source.errorAt(
            ['components', name, key, i],
            `unknown component "${dep}" (expected one of: ${Object.keys(components).join(', ')})`,
          );
        }
        if (dep === name) throw source.errorAt(['components', name, key, i], `a component cannot depend on itself`);
      });
    // One component, one step: deploy plans a component with migrate as its migrations step
    // only, so a deploy beside it would silently never run.
    if (c.deploy && c.migrate)
      throw source.errorAt(
        ['components', name, 'deploy'],
        'a component with migrate: is the migrations step, and its deploy: would never run (expected the migrations in a component of their own, kind: migrations, that this one dependsOn)',
      );
    // compose runs docker compose here; the way to a remote engine is Docker's own, not ssh:.
    if (c.deploy?.target === 'compose' && c.deploy.ssh !== undefined)
      throw source.errorAt(
        ['components', name, 'deploy', 'ssh'],
        'the compose target runs docker compose on this machine and does not read ssh (for a remote Docker engine, set DOCKER_HOST=ssh://user@host in env)',
      );
    const known = c.deploy && Object.hasOwn(TARGET_KEYS, c.deploy.target) ? TARGET_KEYS[c.deploy.target] : null;
    const unknown = known && Object.keys(c.deploy!).find((k) => k !== 'target' && !known.includes(k));
    if (unknown)
      throw source.errorAt(
        ['components', name, 'deploy', unknown],
        `unknown key "${unknown}" for target ${c.deploy!.target} (expected one of: ${known.join(', ')})`,
      );
    checkNestedKeys(source, name, c.deploy);
    if (c.deploy && c.deploy.target === 'command' && !c.deploy.run) {
      throw source.errorAt(['components', name, 'deploy'], 'a command target needs "run" (the command that deploys)');
    }
  }
  const cycle = findCycle(
    Object.fromEntries(Object.entries(components).map(([n, c]) => [n, [...c.dependsOn, ...c.deployAfter]])),
  );
  if (cycle) {
    const key = components[cycle[0]].dependsOn.includes(cycle[1]) ? 'dependsOn' : 'deployAfter';
    // A cycle among workspace packages is in their package.json files, not in the policy file.
    const fromWorkspace = !written(source, ['components', cycle[0], key]);
    throw source.errorAt(
      fromWorkspace ? ['workspaces'] : ['components', cycle[0], key],
      `dependency cycle: ${cycle.join(' → ')}${fromWorkspace ? " (from the workspace packages' package.json dependencies)" : ''}`,
    );
  }
  for (const [name, e] of Object.entries(envs)) {
    if (e.after && !Object.hasOwn(envs, e.after)) {
      throw source.errorAt(
        ['environments', name, 'after'],
        `unknown environment "${e.after}" (expected one of: ${Object.keys(envs).join(', ')})`,
      );
    }
  }
}

/**
 * No two tag series share a template: two components with the same tag, or a component
 * versioned on its own (it has paths or migrations) under the repository's template,
 * would read and write each other's tags. The error points at the later of the two.
 */
function checkTagSeries(source: YamlSource, components: Record<string, ComponentConfig>, repoTag: string): void {
  type Owner = { what: string; path: PropertyKey[] };
  const repo: Owner = { what: "the repository's series (versioning.tag)", path: ['versioning', 'tag'] };
  const seen = new Map<string, Owner>();
  for (const [name, c] of Object.entries(components)) {
    const watched = c.paths.length > 0 || c.migrate !== undefined;
    if (c.series === 'own' && !watched)
      throw source.errorAt(
        ['components', name, 'series'],
        'series: own needs paths (or migrate.dir): the commits that move its version',
      );
    if (c.series === 'product' && c.tag !== undefined && c.tag !== repoTag)
      throw source.errorAt(
        ['components', name, 'tag'],
        `a component with series: product is released under versioning.tag ("${repoTag}") and has no tag of its own; remove tag, or set series: own`,
      );
    if (c.series === 'product') continue;
    const versioned = componentSeries(c) === 'own';
    // A component without its own series only tags under an explicit template.
    const template = c.tag !== undefined || versioned ? componentTagTemplate(name, c) : undefined;
    if (!template) continue;
    const owner: Owner = {
      what: `component "${name}"`,
      path: c.tag ? ['components', name, 'tag'] : ['components', name],
    };
    const first = seen.get(template) ?? (versioned && template === repoTag ? repo : undefined);
    if (!first) {
      seen.set(template, owner);
      continue;
    }
    // Point at whichever of the two comes later in the file, and name the other.
    const firstLine = written(source, first.path) ? source.locate(first.path).line : undefined;
    const ownerLine = source.locate(owner.path).line ?? 0;
    const [other, later, otherLine] =
      firstLine !== undefined && firstLine > ownerLine ? [owner, first, ownerLine] : [first, owner, firstLine];
    throw source.errorAt(
      later.path,
      `tag template "${template}" is also used by ${other.what}${otherLine ? ` (line ${otherLine})` : ''}${c.tag ? '' : ` (the default of component "${name}")`}: two tag series cannot share a template`,
    );
  }
}

/** True when the key at `path` is written in the file (not a default). */
function written(source: YamlSource, path: readonly PropertyKey[]): boolean {
  let v: unknown = source.value;
  for (const k of path) {
    if (v === null || typeof v !== 'object' || !(k in v)) return false;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return true;
}

/** The components' deploy-order map: `dependsOn` and `deployAfter` alike. */
export function dependencyMap(config: SlipwayConfig): Record<string, string[]> {
  return Object.fromEntries(
    Object.values(config.components).map((c) => [c.name, [...new Set([...c.dependsOn, ...c.deployAfter])]]),
  );
}
