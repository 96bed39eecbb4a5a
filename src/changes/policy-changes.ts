/**
 * A push that only edits the policy file (a new component, a new build command) changes what
 * is built or deployed without touching any component's files. So the policy at the base is
 * compared with the one in use, component by component, on parsed values: a comment, a
 * reordering or a reformatting selects nothing.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseConfig, type SlipwayConfig } from '../core/config.js';
import { errorMessage } from '../core/errors.js';
import type { Git } from '../core/git.js';
import type { Logger } from '../core/runtime.js';
import type { Reason } from './select.js';

/**
 * The keys of a component's entry whose change selects it: what it is built from, how it is
 * built, and how it is deployed or migrated. The others (kind, dependsOn, deployAfter, tag,
 * series, health) change order, versions or checks, which the next run applies anyway.
 */
const COMPONENT_KEYS = ['paths', 'build', 'deploy', 'migrate'] as const;

/**
 * Keys every component shares. A change to them selects nothing (docs/build-selective.md):
 * they decide versions, environments and notifications, not what a build makes, and
 * rebuilding everything for a new environment would be surprising; `all: true` is there.
 */
const SHARED_KEYS = ['versioning', 'environments', 'notify'] as const;

/** Components whose policy entry differs between `base` and the policy in use, each with its reason. */
export async function policyChanges(
  git: Git,
  config: SlipwayConfig,
  base: string,
  cwd: string,
  log: Logger,
): Promise<Record<string, Reason>> {
  if (!config.file) return {};
  const rel = path.relative(cwd, path.resolve(cwd, config.file)).split(path.sep).join('/');
  // A policy file outside the repository has no history to compare with.
  if (rel.startsWith('../') || path.isAbsolute(rel)) return {};
  const file = config.file;
  const now = await readFile(path.resolve(cwd, rel), 'utf8');
  // cat-file, not show: a textconv filter configured for .yml must not change the text compared.
  const then = await git.tryRun(['cat-file', 'blob', `${base}:./${rel}`]);
  if (then === now) return {};
  // Never committed (a file kept beside the checkout): it has no history, so nothing of it changed.
  if (then === null && (await git.tryRun(['cat-file', '-e', `HEAD:./${rel}`])) === null) return {};

  let before: SlipwayConfig | null = null;
  if (then !== null) {
    try {
      before = parseConfig(then, file, cwd);
    } catch (err) {
      log.info(
        `${file} at the base ${base.slice(0, 7)} cannot be read (${errorMessage(err)}): every component counts as changed.`,
      );
      const why: Reason = { kind: 'all', why: `${file} could not be read at the base` };
      return Object.fromEntries(Object.keys(config.components).map((n) => [n, why]));
    }
  }

  const shared = SHARED_KEYS.filter((k) => before && canonical(before[k]) !== canonical(config[k]));
  if (shared.length)
    log.info(`${file}: ${shared.join(', ')} changed; that selects no component (use all: true to rebuild everything).`);

  const out: Record<string, Reason> = {};
  for (const c of Object.values(config.components)) {
    const old = before?.components[c.name];
    if (!old) {
      out[c.name] = { kind: 'policy', file, keys: [] };
      continue;
    }
    const keys = COMPONENT_KEYS.filter((k) => canonical(old[k]) !== canonical(c[k]));
    if (keys.length) out[c.name] = { kind: 'policy', file, keys };
  }
  return out;
}

/** JSON with object keys sorted, so two parsed values compare equal whatever order the file wrote them in. */
function canonical(value: unknown): string {
  return (
    JSON.stringify(value, (_, v: unknown) =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : v,
    ) ?? 'undefined'
  );
}
