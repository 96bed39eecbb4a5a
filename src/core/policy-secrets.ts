/**
 * The secrets a policy file names. The file never holds a secret: it names environment
 * variables (`{ env: NAME }` for notify webhooks, a component's `database`, a check's
 * `postgres`/`redis`, any target's settings; `${NAME}` in a check's sensitive header). Their
 * values are masked when an action starts, before any command runs, so a command that
 * prints one early (an error line before the webhook or the database is first used) shows
 * `***` in the log, the summary, the record and every notification.
 */
import type { SlipwayConfig } from './config.js';
import type { Runtime } from './runtime.js';

/** Header names whose values are credentials (as the check engine treats them). */
const SENSITIVE_HEADER = /auth|token|secret|password|passwd|key|cookie|session|signature|credential/i;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The environment variables the policy names as holding secrets, sorted. */
export function policySecretNames(config: SlipwayConfig): string[] {
  const names = new Set<string>();
  const seen = new Set<object>();
  const walk = (node: unknown, key: string): void => {
    if (typeof node === 'string') {
      // ${NAME} in a sensitive header's value: the check engine expands it into a credential.
      if (key && SENSITIVE_HEADER.test(key))
        for (const m of node.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) names.add(m[1]);
      return;
    }
    if (!node || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    if (Array.isArray(node)) {
      for (const item of node) walk(item, '');
      return;
    }
    const record = node as Record<string, unknown>;
    if (typeof record.env === 'string' && NAME.test(record.env)) names.add(record.env);
    for (const [k, v] of Object.entries(record)) walk(v, k);
  };
  walk(config.components, '');
  walk(config.environments, '');
  walk(config.notify, '');
  // A migrations component without `database` reads DATABASE_URL.
  for (const c of Object.values(config.components)) if (c.migrate && !c.migrate.database) names.add('DATABASE_URL');
  return [...names].sort();
}

/** Mask the value of every variable the policy names as a secret; returns the names that were set. */
export function maskPolicySecrets(config: SlipwayConfig, rt: Pick<Runtime, 'env' | 'mask'>): string[] {
  const set: string[] = [];
  for (const name of policySecretNames(config)) {
    const value = rt.env[name];
    if (!value) continue;
    rt.mask(value);
    set.push(name);
  }
  return set;
}
