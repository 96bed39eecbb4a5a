/** The deploy action's inputs, and the two that carry structure: `version` and `components`. */
import { z } from 'zod';
import type { SlipwayConfig } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { parseJsonObject } from '../core/json-object.js';
import { commonInputs, input, type InputField, type ParsedInputs } from '../core/inputs.js';

const versionText = /^[0-9A-Za-z][0-9A-Za-z.+_-]*$/;

/** A version as given: leading "v" before a digit dropped, no spaces or shell characters. */
export function normalizeVersion(raw: string): string | null {
  const v = raw.trim().replace(/^v(?=\d)/, '');
  return versionText.test(v) ? v : null;
}

const versionField: InputField<string> = {
  description:
    "The version to deploy (e.g. 1.4.0), or JSON component → version (version-bump's per-component versions). Required unless rollback is true.",
  schema: z.string(),
};

/** Any version `version` accepts (one version, not JSON), leading "v" dropped. */
const toVersionField: InputField<string> = {
  description:
    'With rollback: the version to return to instead of the previous one; one the environment ran (a version new to it is deployed with version).',
  schema: z
    .string()
    .transform((s) => (s.trim() === '' ? '' : (normalizeVersion(s) ?? s)))
    .refine((s) => s === '' || normalizeVersion(s) === s, {
      message: 'expected a version such as 1.4.0 (letters, digits, . + _ -)',
    }),
};

/** The declared inputs of deploy. */
export const deployInputs = {
  environment: input.string('The environment to deploy to (a key of environments: in the policy file).', {
    required: true,
  }),
  version: versionField,
  components: input.string(
    'Components to deploy: a JSON array (such as build-selective\'s changed), a comma-separated list, or "all". Unchanged dependencies still order the waves.',
    { default: 'all' },
  ),
  ...commonInputs,
  parallel: input.integer('The most components deployed at once within the dependency order.', '4', 1),
  timeout: input.integer('Seconds each component has to pass its health checks after it deploys.', '300', 1),
  'auto-rollback': input.boolean('On a failure, roll back what this run deployed to the last good versions.', 'true'),
  'force-rollback': input.boolean(
    'Roll back application components even when this run applied migrations the previous version cannot run on.',
    'false',
  ),
  rollback: input.boolean(
    "Manual rollback: undo the environment's latest deploy still in effect (what it changed goes back to the versions before it; a component an interrupted run left goes back to its last good version), or go to to-version.",
    'false',
  ),
  'to-version': toVersionField,
  'lock-timeout': input.integer(
    'Seconds to wait while another deployment to the environment is in progress.',
    '600',
    0,
  ),
  'lock-ttl': input.integer(
    'Seconds without a heartbeat after which an in-progress deployment is stale: marked error and taken over. A running deploy refreshes its record about three times per lock-ttl.',
    '3600',
    1,
  ),
  'allow-downgrade': input.boolean(
    'Deploy a version lower than the one the environment runs (refused otherwise, so a run that waited for the lock never puts an older version over a newer one). A manual rollback needs no such permission.',
    'false',
  ),
  'force-unlock': input.boolean(
    "Before taking the environment's lock, release it from any deployment still queued or in progress (marked error, named in a warning). Only for a lock a cancelled or crashed run left held.",
    'false',
  ),
  token: input.string(
    "GitHub token for the Deployments API. Empty: the record is the ledger in .slipway/, which does not outlive a runner's job (deploy warns).",
    {
      default: '${{ github.token }}',
      secret: true,
    },
  ),
};

/** The parsed inputs of deploy. */
export type DeployInputs = ParsedInputs<typeof deployInputs>;

/** The `version` input: one version for every component, or one per component. */
export type VersionSpec = { all: string } | { each: Record<string, string> };

/** Parse the `version` input; empty is allowed only for a rollback. */
export function parseVersionInput(raw: string, config: SlipwayConfig): VersionSpec | null {
  const text = raw.trim();
  if (!text) return null;
  if (text.startsWith('{')) {
    const parsed = parseJsonObject(text, 'input "version": expected a version or a JSON object of component → version');
    const each: Record<string, string> = {};
    for (const [name, v] of Object.entries(parsed)) {
      if (!(name in config.components))
        throw new UserError(
          `input "version": unknown component "${name}" (expected one of: ${Object.keys(config.components).join(', ')})`,
        );
      const version = typeof v === 'string' ? normalizeVersion(v) : null;
      if (!version) throw new UserError(`input "version": expected a version for ${name}, got ${JSON.stringify(v)}`);
      each[name] = version;
    }
    return { each };
  }
  const version = normalizeVersion(text);
  if (!version)
    throw new UserError(
      `input "version": expected a version such as 1.4.0 (letters, digits, . + _ -), got ${JSON.stringify(text)}`,
    );
  return { all: version };
}

/** Parse the `components` input: "all", a JSON array, or a comma-separated list. */
export function parseComponentsInput(raw: string, config: SlipwayConfig): Set<string> {
  const text = raw.trim();
  const known = Object.keys(config.components);
  if (text === '' || text.toLowerCase() === 'all') return new Set(known);
  let names: unknown;
  if (text.startsWith('[')) {
    try {
      names = JSON.parse(text);
    } catch {
      throw new UserError(`input "components": expected "all" or a JSON array of component names, got invalid JSON`);
    }
  } else names = text.split(/[\s,]+/).filter(Boolean);
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string'))
    throw new UserError(
      `input "components": expected "all" or a JSON array of component names, got ${JSON.stringify(text)}`,
    );
  for (const n of names as string[])
    if (!known.includes(n))
      throw new UserError(
        `input "components": unknown component "${n}" in ${config.file ?? 'the default configuration'} (expected ${known.length ? `one of: ${known.join(', ')}` : 'none: there is no policy file'})`,
      );
  return new Set(names as string[]);
}
