/**
 * The policy file's defaults and the helpers that need no parser, apart from config.ts so
 * that an action run without a policy file never loads the YAML parsers and the schemas
 * (a fifth of version-bump's start-up). config.ts re-exports all of this.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { BranchRule, ComponentConfig, SlipwayConfig } from './config.js';
import { UserError } from './errors.js';

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
export function defaultConfig(): SlipwayConfig {
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

/**
 * loadConfig, with the parser loaded only when there is a file to parse: a missing
 * default file means defaults, anything else goes to config.ts (same errors).
 */
export async function loadConfigLazily(cwd: string, configInput = ''): Promise<SlipwayConfig> {
  if (configInput.trim() === '') {
    try {
      await access(path.resolve(cwd, DEFAULT_CONFIG_PATH));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return defaultConfig();
    }
  }
  const { loadConfig } = await import('./config.js');
  return loadConfig(cwd, configInput);
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
