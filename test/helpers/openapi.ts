/**
 * GitHub's OpenAPI description of the operations Slipway calls (the fixture written by
 * scripts/extract-openapi.ts), and the checks the test server applies to every request:
 * the operation exists, its path and query parameters and its JSON body match the schema.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './run-action.js';

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  enum?: unknown[];
  items?: Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  nullable?: boolean;
  additionalProperties?: boolean | Schema;
  minimum?: number;
  maximum?: number;
};

/** One operation of the fixture. */
export interface Operation {
  operationId: string;
  method: string;
  path: string;
  parameters: { name: string; in: 'path' | 'query' | 'header'; required: boolean; schema: Schema }[];
  requestBody?: { required: boolean; schema: Schema };
  responses: string[];
}

/** A request matched to its operation, with its decoded path parameters. */
export interface Matched {
  operation: Operation;
  params: Record<string, string>;
}

let cached: Operation[] | undefined;

/** The operations of the committed fixture. */
function operations(): Operation[] {
  cached ??= (
    JSON.parse(readFileSync(path.join(ROOT, 'test/fixtures/github-openapi.json'), 'utf8')) as {
      operations: Operation[];
    }
  ).operations;
  return cached;
}

// Path parameters that GitHub lets span slashes (`git/ref/tags/v1`, `contents/docs/a.md`).
const GREEDY = new Set(['ref', 'path']);

function templateRegex(template: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const m = /^\{(.+)\}$/.exec(part);
      if (!m) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      names.push(m[1]);
      return GREEDY.has(m[1]) ? '(.+?)' : '([^/]+?)';
    })
    .join('');
  return { regex: new RegExp(`^${source}$`), names };
}

/** The operation a method and URL path (without query) call, or null. */
export function matchOperation(method: string, pathname: string): Matched | null {
  for (const operation of operations()) {
    if (operation.method !== method) continue;
    const { regex, names } = templateRegex(operation.path);
    const m = regex.exec(pathname);
    if (!m) continue;
    const params: Record<string, string> = {};
    names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1])));
    return { operation, params };
  }
  return null;
}

/** Problems with a request's parameters and body for `operation` (empty when it is valid). */
export function checkRequest(
  operation: Operation,
  params: Record<string, string>,
  query: URLSearchParams,
  body: unknown,
): string[] {
  const problems: string[] = [];
  for (const p of operation.parameters) {
    if (p.in === 'header') continue;
    const raw = p.in === 'path' ? params[p.name] : (query.get(p.name) ?? undefined);
    if (raw === undefined) {
      if (p.required) problems.push(`missing ${p.in} parameter "${p.name}"`);
      continue;
    }
    problems.push(...checkValue(p.schema, coerce(p.schema, raw), `${p.in} parameter "${p.name}"`));
  }
  const known = new Set(operation.parameters.filter((p) => p.in === 'query').map((p) => p.name));
  for (const name of query.keys()) if (!known.has(name)) problems.push(`unknown query parameter "${name}"`);
  if (operation.requestBody) {
    if (body === undefined) {
      if (operation.requestBody.required) problems.push('missing JSON body');
    } else problems.push(...checkValue(operation.requestBody.schema, body, 'body', true));
  } else if (body !== undefined && !(typeof body === 'object' && body && Object.keys(body).length === 0)) {
    problems.push(`${operation.operationId} takes no body`);
  }
  return problems;
}

/** A query or path value as the schema's type (they all arrive as strings). */
function coerce(schema: Schema, raw: string): unknown {
  if (schema.type === 'integer' || schema.type === 'number') return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  if (schema.type === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  return raw;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/**
 * Check `value` against the subset of JSON Schema GitHub's request schemas use. With
 * `strict`, a property the schema does not declare is a problem: GitHub ignores it, which
 * is exactly how a misspelt field (`makeLatest`) would go unnoticed.
 */
function checkValue(schema: Schema, value: unknown, at: string, strict = false): string[] {
  if (value === null)
    return schema.nullable || schema.type === 'null' ? [] : [`${at}: expected ${schema.type ?? 'a value'}, got null`];
  if (schema.oneOf || schema.anyOf) {
    const options = (schema.oneOf ?? schema.anyOf)!;
    const ok = options.some((s) => checkValue(s, value, at, strict).length === 0);
    return ok ? [] : [`${at}: matches none of ${options.map((s) => s.type ?? 'schema').join(', ')}`];
  }
  if (schema.allOf) return schema.allOf.flatMap((s) => checkValue(s, value, at, false));
  const problems: string[] = [];
  const actual = typeOf(value);
  if (schema.type) {
    const fits = schema.type === actual || (schema.type === 'number' && actual === 'integer');
    if (!fits) return [`${at}: expected ${schema.type}, got ${actual} ${JSON.stringify(value)}`];
  }
  if (schema.enum && !schema.enum.includes(value))
    problems.push(
      `${at}: expected one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${JSON.stringify(value)}`,
    );
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) problems.push(`${at}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) problems.push(`${at}: above ${schema.maximum}`);
  }
  if (actual === 'array' && schema.items) {
    (value as unknown[]).forEach((v, i) => problems.push(...checkValue(schema.items!, v, `${at}[${i}]`, strict)));
  }
  if (actual === 'object' && (schema.type === 'object' || schema.properties)) {
    const obj = value as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in obj)) problems.push(`${at}: missing required "${r}"`);
    for (const [k, v] of Object.entries(obj)) {
      const prop = schema.properties?.[k];
      if (prop) problems.push(...checkValue(prop, v, `${at}.${k}`, strict));
      else if (typeof schema.additionalProperties === 'object')
        problems.push(...checkValue(schema.additionalProperties, v, `${at}.${k}`, strict));
      else if (strict && schema.additionalProperties !== true && schema.properties)
        problems.push(`${at}: unknown property "${k}"`);
    }
  }
  return problems;
}
