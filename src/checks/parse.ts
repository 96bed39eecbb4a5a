/**
 * Checks as users write them (the `checks` input, or a component's `health` entries in the
 * policy file), validated into typed Checks. Every error is one line naming the YAML line
 * and what was expected.
 */
import { z } from 'zod';
import type { SlipwayConfig } from '../core/config.js';
import type { UserError } from '../core/errors.js';
import { redactUrlPasswords } from '../core/secrets.js';
import { CHECK_KINDS, type Check, type Expectation } from './types.js';

/** Anything that can point an error at a key path: a YamlSource or a SlipwayConfig. */
export interface CheckSource {
  errorAt(path: readonly PropertyKey[], message: string): UserError;
}

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'expected an environment variable name' });
const status = z
  .number({ message: 'expected an HTTP status such as 200' })
  .int({ message: 'expected an HTTP status such as 200' })
  .min(100, { message: 'expected an HTTP status between 100 and 599' })
  .max(599, { message: 'expected an HTTP status between 100 and 599' });
const scalarText = z.union([z.string(), z.number(), z.boolean()], { message: 'expected a string' }).transform(String);
const latency = z.number({ message: 'expected milliseconds' }).positive({ message: 'expected milliseconds above 0' });
const jsonExpect = z.record(z.string().min(1), z.unknown(), { message: 'expected a mapping of dot paths to values' });

const httpExpect = z.strictObject({
  status: z.union([status, z.array(status).min(1)]).optional(),
  body: scalarText.optional(),
  json: jsonExpect.optional(),
  header: z.record(z.string(), scalarText, { message: 'expected a mapping of header names to values' }).optional(),
  maxLatencyMs: latency.optional(),
});
const messageExpect = z.strictObject({
  body: scalarText.optional(),
  json: jsonExpect.optional(),
  maxLatencyMs: latency.optional(),
});
const latencyExpect = z.strictObject({ maxLatencyMs: latency.optional() });

const common = {
  name: z.string().min(1, { message: 'expected a non-empty name' }).optional(),
  samples: z
    .number({ message: 'expected a whole number of samples' })
    .int({ message: 'expected a whole number of samples' })
    .min(1, { message: 'expected at least 1 sample' })
    .max(1000, { message: 'expected at most 1000 samples' })
    .optional(),
};
// RFC 9110's token: what node:http accepts as a header name.
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, {
  message: 'expected a header name (letters, digits and -, no spaces or colons)',
});
const headers = z
  .record(headerName, scalarText, { message: 'expected a mapping of header names to values' })
  .optional();
const isRelative = (u: string) => u.startsWith('/');
const hasScheme = (u: string, schemes: string[]) => {
  try {
    return schemes.includes(new URL(u).protocol);
  } catch {
    return false;
  }
};

/** Whether `port` (its digits) names a port a connection can be made to: 1 to 65535. */
export const isPort = (port: string) => Number(port) >= 1 && Number(port) <= 65535;
/**
 * The explicit port of a URL (its digits, as written), or null when it has none. Read from
 * the text, not from `new URL`, which refuses 99999 as an invalid URL (saying nothing of the
 * port) and accepts 0.
 */
export const urlPort = (u: string): string | null =>
  /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^/?#]*@)?(?:\[[^\]]*\]|[^:/?#@]*):(\d+)(?=[/?#]|$)/.exec(u)?.[1] ?? null;
/** A URL whose explicit port is out of range is an issue of its own, reported before "expected a URL". */
const checkUrlPort = (u: string, ctx: z.RefinementCtx) => {
  const port = urlPort(u);
  if (port !== null && !isPort(port))
    ctx.addIssue({ code: 'custom', message: `expected a port from 1 to 65535 in the URL, found ${port}` });
};

const schemas = {
  http: z.strictObject({
    ...common,
    http: z
      .string({ message: 'expected a URL' })
      .superRefine(checkUrlPort)
      .refine((u) => isRelative(u) || hasScheme(u, ['http:', 'https:']), {
        message: 'expected an http(s) URL or a path starting with /',
      }),
    method: z
      .string()
      .regex(/^[A-Za-z]+$/, { message: 'expected an HTTP method such as GET' })
      .transform((m) => m.toUpperCase())
      .optional(),
    headers,
    body: z
      .union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())], {
        message: 'expected a string, or a mapping or list to send as JSON',
      })
      .optional(),
    expect: httpExpect.optional(),
  }),
  tcp: z.strictObject({
    ...common,
    tcp: z
      .string({ message: 'expected host:port' })
      .regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):\d+$/, { message: 'expected host:port, e.g. db.internal:5432' })
      .superRefine((spec, ctx) => {
        const port = /:(\d+)$/.exec(spec)?.[1];
        if (port !== undefined && !isPort(port))
          ctx.addIssue({ code: 'custom', message: `expected a port from 1 to 65535, found ${port}` });
      }),
    expect: latencyExpect.optional(),
  }),
  postgres: z.strictObject({
    ...common,
    postgres: z.strictObject(
      { env: envName, query: z.string().min(1).optional() },
      { message: 'expected { env: VARIABLE } naming the variable that holds the connection URL' },
    ),
    expect: latencyExpect.optional(),
  }),
  redis: z.strictObject({
    ...common,
    redis: z.strictObject(
      { env: envName },
      { message: 'expected { env: VARIABLE } naming the variable that holds the redis:// URL' },
    ),
    expect: latencyExpect.optional(),
  }),
  websocket: z.strictObject({
    ...common,
    websocket: z
      .string({ message: 'expected a URL' })
      .superRefine(checkUrlPort)
      .refine((u) => isRelative(u) || hasScheme(u, ['ws:', 'wss:', 'http:', 'https:']), {
        message: 'expected a ws(s):// URL or a path starting with /',
      }),
    headers,
    send: scalarText.optional(),
    expect: messageExpect.optional(),
  }),
};

/** Validate a list of checks; `base` is where the list sits in the source (e.g. components.api.health). */
export function parseChecks(value: unknown, source: CheckSource, base: readonly PropertyKey[] = []): Check[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value))
    throw source.errorAt(
      base,
      `expected a list of checks (each with one of ${CHECK_KINDS.join(', ')}), found ${kindOf(value)}`,
    );
  const checks: Check[] = [];
  const seen = new Map<string, number>();
  value.forEach((item, i) => {
    const check = parseOne(item, source, [...base, i]);
    const first = seen.get(check.name);
    if (first !== undefined)
      throw source.errorAt(
        [...base, i, 'name' in (item as object) ? 'name' : check.kind],
        `duplicate check name "${check.name}" (also item ${first}); give each check its own name`,
      );
    seen.set(check.name, i);
    checks.push(check);
  });
  return checks;
}

/** The health checks of a component of the policy file, with errors pointing into the file. */
export function healthChecks(config: SlipwayConfig, component: string): Check[] {
  return parseChecks(config.components[component]?.health ?? [], config, ['components', component, 'health']);
}

function parseOne(item: unknown, source: CheckSource, at: PropertyKey[]): Check {
  if (item === null || typeof item !== 'object' || Array.isArray(item))
    throw source.errorAt(
      at,
      `expected a check (a mapping with one of ${CHECK_KINDS.join(', ')}), found ${kindOf(item)}`,
    );
  const kinds = CHECK_KINDS.filter((k) => k in item);
  if (kinds.length === 0)
    throw source.errorAt(
      at,
      `expected one of ${CHECK_KINDS.join(', ')} (what to check), found keys ${Object.keys(item).join(', ') || 'none'}`,
    );
  if (kinds.length > 1)
    throw source.errorAt([...at, kinds[1]], `a check has one kind, found both ${kinds[0]} and ${kinds[1]}`);
  const kind = kinds[0];
  const schema = schemas[kind];
  const result = schema.safeParse(item);
  if (!result.success) {
    const issue = result.error.issues[0];
    if (issue.code === 'unrecognized_keys') {
      const allowed = keysOf(schema, issue.path);
      throw source.errorAt(
        [...at, ...issue.path, issue.keys[0]],
        `unknown key "${issue.keys[0]}"${allowed ? ` (expected one of: ${allowed})` : ''}`,
      );
    }
    throw source.errorAt([...at, ...issue.path], describe(issue));
  }
  return toCheck(kind, result.data as Record<string, unknown>);
}

function toCheck(kind: (typeof CHECK_KINDS)[number], d: Record<string, unknown>): Check {
  const raw = (d.expect ?? {}) as Record<string, unknown>;
  const expect: Expectation = { ...(raw as Expectation) };
  if (raw.status !== undefined) expect.status = ([] as number[]).concat(raw.status as number | number[]);
  const common = { samples: d.samples as number | undefined, expect };
  const named = (target: string) => (d.name as string | undefined) ?? target;
  switch (kind) {
    case 'http': {
      const method = (d.method as string | undefined) ?? 'GET';
      const url = d.http as string;
      const headers = { ...((d.headers as Record<string, string> | undefined) ?? {}) };
      let body: string | undefined;
      if (typeof d.body === 'string') body = d.body;
      else if (d.body !== undefined) {
        body = JSON.stringify(d.body);
        if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
          headers['content-type'] = 'application/json';
      }
      const target = redactUrlPasswords(url);
      return {
        kind,
        ...common,
        name: named(method === 'GET' ? target : `${method} ${target}`),
        url,
        method,
        headers,
        body,
      };
    }
    case 'tcp': {
      const spec = d.tcp as string;
      const colon = spec.lastIndexOf(':');
      const host = spec.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
      return { kind, ...common, name: named(spec), host, port: Number(spec.slice(colon + 1)) };
    }
    case 'postgres': {
      const p = d.postgres as { env: string; query?: string };
      return { kind, ...common, name: named(`postgres ${p.env}`), env: p.env, query: p.query ?? 'select 1' };
    }
    case 'redis': {
      const r = d.redis as { env: string };
      return { kind, ...common, name: named(`redis ${r.env}`), env: r.env };
    }
    case 'websocket': {
      const url = d.websocket as string;
      return {
        kind,
        ...common,
        name: named(redactUrlPasswords(url)),
        url,
        headers: { ...((d.headers as Record<string, string> | undefined) ?? {}) },
        send: d.send as string | undefined,
      };
    }
  }
}

/** The allowed keys of the object schema at `path` inside `schema`, for "unknown key" errors. */
function keysOf(schema: z.ZodType, path: readonly PropertyKey[]): string | undefined {
  let s: z.ZodType | undefined = schema;
  for (const seg of path) {
    while (s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
    if (!(s instanceof z.ZodObject)) return undefined;
    s = (s.shape as Record<string, z.ZodType>)[String(seg)];
  }
  while (s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
  return s instanceof z.ZodObject ? Object.keys(s.shape).join(', ') : undefined;
}

/** zod's message, made to read as "expected …, found …". */
function describe(issue: z.core.$ZodIssue): string {
  // A bad key of a mapping: say what is wrong with the key, not with the mapping.
  if (issue.code === 'invalid_key' && issue.issues[0]) return describe(issue.issues[0]);
  if (issue.code === 'invalid_union') {
    // A value of the right type that breaks a rule says more than "not the other type".
    const specific = issue.errors.flat().find((i) => i.code !== 'invalid_type');
    if (specific) return describe(specific);
    if (issue.message !== 'Invalid input') return issue.message;
    if (issue.errors[0]?.[0]) return describe(issue.errors[0][0]);
  }
  const m = issue.message.replace(/^Invalid input: /, '');
  if (issue.code === 'invalid_type' && / received undefined$/.test(m))
    return `is required (expected ${issue.expected})`;
  return m;
}

function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}
