/** The build-selective action: which components does this change touch, and build only those. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, type SlipwayConfig } from '../core/config.js';
import { knownEnvironment } from '../deploy/environments.js';
import { UserError } from '../core/errors.js';
import { parseJsonObject } from '../core/json-object.js';
import { Git } from '../core/git.js';
import { commonInputs, defineAction, input, type ParsedInputs } from '../core/inputs.js';
import { withLog, type Logger, type Runtime } from '../core/runtime.js';
import { componentPaths } from '../versioning/version-bump.js';
import { chooseBase, type BaseDecision, type DeploymentLookup } from './base.js';
import { buildAll, type BuildOutcome } from './build.js';
import { folderCache, type BuildCache } from './cache.js';
import { parseFilters } from './filters.js';
import { deploymentLookup } from './deployed.js';
import { contentHashes, type HashInput } from './hash.js';
import type { Selectable } from './patterns.js';
import { policyChanges } from './policy-changes.js';
import { changedPaths, dependencies, selectByChangedPaths, selectAll, type Selection } from './select.js';
import { describeReason, selectionSummary } from './summary.js';
import { maskPolicySecrets } from '../core/policy-secrets.js';

/** What the action needs from where it runs: a build cache, and the Deployments API. */
export interface BuildSelectiveServices {
  cache(rt: Runtime): BuildCache;
  /** The last-deployment lookup; `token` is the token input (empty: read the ledger). */
  deployments(rt: Runtime, token: string): DeploymentLookup;
}

/**
 * Outside GitHub: a cache folder in .slipway/; the last deployment from deploy's record (the
 * ledger in .slipway/, or GitHub Deployments when a token is given).
 */
export const localServices: BuildSelectiveServices = {
  cache: (rt) => folderCache(path.join(rt.cwd, '.slipway', 'cache'), rt.cwd),
  deployments: deploymentLookup,
};

const INPUTS = {
  ...commonInputs,
  base: input.string('Commit, branch or tag to compare with. Overrides the rule chosen from the event.'),
  head: input.string('Commit, branch or tag to compare. Empty: HEAD.'),
  filters: input.string(
    "Without a policy file: dorny/paths-filter's YAML (name: [globs]), inline or the path of a file holding it.",
  ),
  all: input.boolean('Select every component.', 'false'),
  environment: input.string(
    'For workflow_dispatch and schedule: compare with the commit last deployed successfully to this environment.',
  ),
  component: input.string(
    'Build just this component (a matrix job of the selection): it is selected whatever changed.',
  ),
  run: input.boolean("Run each selected component's build.run, in dependency order.", 'false'),
  cache: input.boolean('Skip a build whose content hash was built before (restored from the build cache).', 'false'),
  parallel: input.integer('How many independent builds run at once.', '2', 1),
  version: input.string(
    "The version being built, given to build commands as SLIPWAY_VERSION: one for every component, or JSON component → version (version-bump's versions output; a key that names no component is refused).",
  ),
  released: input.string(
    "JSON array of the components whose version this run releases (version-bump's released output): a changed component outside it is not selected, since deploying it would put new code under a version that is another commit's. Empty: every changed component.",
  ),
  token: input.string(
    'GitHub token, to read the last deployment of `environment` from GitHub Deployments. Empty: the .slipway/ ledger.',
    { default: '${{ github.token }}', secret: true },
  ),
};

/** Fixed output names; a component with one of these names gets no true/false output of its own. */
const OUTPUTS = {
  changed:
    'JSON array of the selected components, in dependency order. Each component also has an output of its own name: true or false.',
  matrix: 'JSON {"include":[{"component","paths"}]} for strategy.matrix.',
  any: 'true when at least one component is selected.',
  files: 'JSON: component → its changed files.',
  base: 'The SHA compared with (empty when everything was selected without one).',
  hashes: "JSON: component → content hash of its build inputs, its dependencies' hashes and its build command.",
  skipped: 'JSON: component → {hash, key} of the builds skipped because the cache had them.',
};

/** The build-selective action over the given services. */
export function createBuildSelective(services: BuildSelectiveServices) {
  return defineAction({
    name: 'build-selective',
    description:
      'Select the components a change touches, and those that depend on them; build only those, skipping builds the cache already has.',
    inputs: INPUTS,
    outputs: OUTPUTS,
    run: (parsed, rt) => runBuildSelective(parsed, rt, services),
  });
}

/** The action as registered (CLI, pipeline, generated action.yml): local services. */
export const buildSelective = createBuildSelective(localServices);

/** A component as the action works with it. */
interface Component extends Selectable {
  paths: string[];
  hash: HashInput;
  outputs: string[];
}

async function runBuildSelective(
  inputs: ParsedInputs<typeof INPUTS>,
  rt: Runtime,
  services: BuildSelectiveServices,
): Promise<void> {
  const git = new Git(rt.cwd, rt.log);
  const config = await loadConfig(rt.cwd, inputs.config);
  // A typo would quietly compare with the previous tag instead of what the environment runs.
  if (inputs.environment.trim()) knownEnvironment(config, inputs.environment, 'input "environment"');
  // Before any command runs: a secret the policy names is masked even where it is printed first.
  maskPolicySecrets(config, rt);
  const components = await componentsOf(config, inputs.filters, rt);
  const fromPolicy = !inputs.filters.trim() && Object.keys(config.components).length > 0;
  const deps = dependencies(components);
  const byName = new Map(components.map((c) => [c.name, c]));
  // Read before anything runs: a typo'd component would build with an empty SLIPWAY_VERSION.
  // A filters file names its own groups, which version-bump's versions output does not know.
  const versions = buildVersions(inputs.version, fromPolicy ? [...byName.keys()] : null);
  const released = releasedComponents(inputs.released, [...byName.keys()]);

  let decision: BaseDecision;
  let selection: Selection;
  if (inputs.component) {
    const c = byName.get(inputs.component);
    if (!c)
      throw new UserError(
        `input "component": unknown component "${inputs.component}" (expected one of: ${components.map((x) => x.name).join(', ')})`,
      );
    const head = await resolveHead(git, inputs.head);
    decision = { head, base: null, rule: `component input: ${c.name}` };
    selection = {
      changed: [c.name],
      reasons: { [c.name]: { kind: 'all', why: 'named by the component input' } },
      files: { [c.name]: [] },
    };
  } else if (inputs.all) {
    const head = await resolveHead(git, inputs.head);
    decision = { head, base: null, rule: 'all: true' };
    selection = selectAll(components, 'all: true');
  } else {
    decision = await chooseBase(
      git,
      {
        eventName: rt.env.GITHUB_EVENT_NAME ?? '',
        event: readEvent(rt),
        ref: rt.env.GITHUB_REF ?? '',
        base: inputs.base,
        head: inputs.head,
        environment: inputs.environment,
        config,
        lastDeployment: services.deployments(rt, inputs.token),
      },
      rt.log,
    );
    rt.log.info(`Base: ${decision.base ?? 'none'} — ${decision.rule}.`);
    if (decision.base === null) {
      if (decision.warning) rt.log.warning(`${decision.warning.replace(/\.$/, '')}: selecting every component.`);
      else rt.log.info('No base to compare with: selecting every component.');
      selection = selectAll(components, decision.rule);
    } else {
      const changes = await git.changedFiles(decision.base, decision.head);
      rt.log.info(
        `${changes.length} file${changes.length === 1 ? '' : 's'} changed between ${decision.base.slice(0, 7)} and ${decision.head.slice(0, 7)}.`,
      );
      const policy = fromPolicy ? await policyChanges(git, config, decision.base, rt.cwd, rt.log) : {};
      selection = selectByChangedPaths(components, changedPaths(changes), policy);
    }
    if (released) selection = onlyReleased(selection, released, rt);
  }

  const hashes = await contentHashes(
    git,
    decision.head,
    components.map((c) => c.hash),
    selection.changed,
  );
  for (const n of selection.changed) rt.log.info(`${n}: ${describeReason(selection.reasons[n])}.`);
  if (!selection.changed.length) rt.log.info('No component is touched by this change.');

  rt.setOutput('changed', selection.changed);
  rt.setOutput('matrix', { include: selection.changed.map((n) => ({ component: n, paths: byName.get(n)!.paths })) });
  rt.setOutput('any', selection.changed.length > 0);
  rt.setOutput('files', selection.files);
  rt.setOutput('base', decision.base ?? '');
  rt.setOutput('hashes', hashes);
  const chosen = new Set(selection.changed);
  for (const c of components) {
    if (c.name in OUTPUTS) {
      rt.log.warning(`Component "${c.name}" has the name of an output; read it from "changed" instead.`);
      continue;
    }
    rt.setOutput(c.name, chosen.has(c.name));
  }

  let outcome: BuildOutcome | null = null;
  // The selected components a build would have nothing to run for (a real run says "no build command").
  const commandless = selection.changed.filter((n) => !byName.get(n)!.hash.command);
  if (inputs.run && inputs.dryRun) {
    rt.log.info(dryRunBuildLine(selection.changed, commandless));
  } else if (inputs.run) {
    outcome = await buildAll(
      selection.changed.map((n) => {
        const c = byName.get(n)!;
        return {
          name: n,
          command: c.hash.command,
          hash: hashes[n],
          dependsOn: c.dependsOn.filter((d) => chosen.has(d)),
          outputs: c.outputs,
          version: versions(n),
        };
      }),
      {
        cwd: rt.cwd,
        env: rt.env,
        parallel: inputs.parallel,
        version: inputs.version,
        sha: decision.head,
        cache: inputs.cache ? services.cache(warningsOnce(rt)) : null,
        log: rt.log,
      },
    );
  }
  // Set, and summarised, before a failure is reported: a later step still learns what the cache had.
  rt.setOutput('skipped', outcome?.skipped ?? {});
  await rt.summary(
    selectionSummary({
      rule: decision.rule,
      base: decision.base,
      head: decision.head,
      selection,
      deps,
      hashes,
      outcome,
      dryRun: inputs.dryRun,
      commandless,
      total: components.length,
    }),
  );
  const failures = Object.values(outcome?.failures ?? {});
  if (failures.length) throw new UserError(failures.join('; '));
}

/** What a dry run would build: the selected components with a build command, then those without one. */
function dryRunBuildLine(selected: readonly string[], commandless: readonly string[]): string {
  const buildable = selected.filter((n) => !commandless.includes(n));
  const none = commandless.length
    ? `; ${commandless.join(', ')} ${commandless.length === 1 ? 'has' : 'have'} no build command`
    : '';
  return `Dry run: would build ${buildable.join(', ') || 'nothing'}${none}.`;
}

/**
 * The runtime given to the build cache, saying each warning once: a cache that is not
 * available says so on every lookup, once per component, where once per run is the news.
 */
function warningsOnce(rt: Runtime): Runtime {
  const said = new Set<string>();
  const log: Logger = {
    info: (m) => rt.log.info(m),
    debug: (m) => rt.log.debug(m),
    warning: (m, a) => {
      if (said.has(m)) return;
      said.add(m);
      rt.log.warning(m, a);
    },
    error: (m, a) => rt.log.error(m, a),
    notice: (m, a) => rt.log.notice(m, a),
    group: (name, fn) => rt.log.group(name, fn),
  };
  return withLog(rt, log);
}

/**
 * The `version` input as each component's version: one for all, or a JSON object (a component
 * it leaves out: empty). A key that names no component is refused: it is a typo, and the
 * component meant would build with an empty SLIPWAY_VERSION.
 */
function buildVersions(raw: string, names: readonly string[] | null): (component: string) => string {
  const text = raw.trim();
  if (!text.startsWith('{')) return () => text;
  const map = parseJsonObject(text, 'input "version": expected a version or a JSON object of component → version');
  const unknown = names ? Object.keys(map).filter((k) => !names.includes(k)) : [];
  if (names && unknown.length)
    throw new UserError(
      `input "version": unknown component${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => `"${k}"`).join(', ')} (expected one of: ${names.join(', ')})`,
    );
  return (component) => (typeof map[component] === 'string' ? (map[component] as string) : '');
}

/**
 * The `released` input as a set of components, or null when it is empty (no filter). A name
 * that is no component is refused, as in `version`: a typo would hold back the component meant.
 */
function releasedComponents(raw: string, names: readonly string[]): Set<string> | null {
  const text = raw.trim();
  if (!text) return null;
  const expected = `input "released": expected a JSON array of component names (version-bump's released output)`;
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    throw new UserError(`${expected}, but it is not valid JSON`);
  }
  if (!Array.isArray(list) || !list.every((n) => typeof n === 'string'))
    throw new UserError(`${expected}, got ${text.slice(0, 80)}`);
  const unknown = list.filter((n) => !names.includes(n));
  if (unknown.length)
    throw new UserError(
      `input "released": unknown component${unknown.length === 1 ? '' : 's'} ${unknown.map((n) => `"${n}"`).join(', ')} (expected one of: ${names.join(', ')})`,
    );
  return new Set(list);
}

/**
 * The selection without the changed components whose version does not move in this run: a
 * `refactor:` push keeps api at 0.5.0, which is already another commit, so it is held back
 * (saying so) rather than built and then refused by deploy.
 */
function onlyReleased(selection: Selection, released: ReadonlySet<string>, rt: Runtime): Selection {
  const held = selection.changed.filter((n) => !released.has(n));
  if (!held.length) return selection;
  const one = held.length === 1;
  rt.log.info(
    `${held.join(', ')}: changed, but this run releases no new version of ${one ? 'it' : 'them'} (no commit since ${one ? 'its' : 'their'} last release asks for one: feat:, fix:…), so ${one ? 'it is' : 'they are'} not built or deployed.`,
  );
  const keep = (n: string) => released.has(n);
  return {
    changed: selection.changed.filter(keep),
    reasons: Object.fromEntries(Object.entries(selection.reasons).filter(([n]) => keep(n))),
    files: Object.fromEntries(Object.entries(selection.files).filter(([n]) => keep(n))),
  };
}

/** HEAD or the head input, as a SHA. */
async function resolveHead(git: Git, head: string): Promise<string> {
  if (!head) return git.head();
  const sha = await git.resolveCommit(head);
  if (!sha) throw new UserError(`input "head": expected a commit, branch or tag of this repository, got "${head}"`);
  return sha;
}

/** The components to select from: the filters input, else the policy file, else the repository as one. */
async function componentsOf(config: SlipwayConfig, filters: string, rt: Runtime): Promise<Component[]> {
  if (filters.trim()) {
    if (Object.keys(config.components).length)
      rt.log.info(`The filters input is given: the components of ${config.file} are not used for selection.`);
    return parseFilters(filters, rt.cwd).map((f) => {
      const paths = f.groups.flatMap((g) => g.patterns);
      return { ...f, paths, outputs: [], hash: { name: f.name, inputs: paths, dependsOn: [], command: '' } };
    });
  }
  const list = Object.values(config.components);
  if (!list.length) {
    rt.log.info('No policy file components and no filters: the repository is one component, "repository".');
    return [
      {
        name: 'repository',
        groups: [{ patterns: ['**'] }],
        dependsOn: [],
        paths: ['**'],
        outputs: [],
        hash: { name: 'repository', inputs: ['**'], dependsOn: [], command: '' },
      },
    ];
  }
  return list.map((c) => {
    const paths = componentPaths(c);
    return {
      name: c.name,
      groups: [{ patterns: paths }],
      dependsOn: c.dependsOn,
      paths,
      outputs: c.build?.outputs ?? [],
      hash: { name: c.name, inputs: c.build?.inputs ?? paths, dependsOn: c.dependsOn, command: c.build?.run ?? '' },
    };
  });
}

/** The event payload the runner wrote, or {} outside a runner. */
function readEvent(rt: Runtime): Record<string, unknown> {
  const file = rt.env.GITHUB_EVENT_PATH;
  if (!file) return {};
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
