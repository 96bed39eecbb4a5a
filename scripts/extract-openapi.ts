/**
 * Extract the GitHub REST operations Slipway calls from GitHub's OpenAPI description into a
 * small committed fixture (test/fixtures/github-openapi.json) that the test server
 * (test/helpers/github-server.ts) validates every request against.
 *
 * @octokit/openapi unpacks to hundreds of megabytes, so it is never a project dependency.
 * To re-run after adding an operation to OPERATIONS below:
 *
 *   npm install --prefix /tmp/openapi @octokit/openapi
 *   npx tsx scripts/extract-openapi.ts /tmp/openapi/node_modules/@octokit/openapi/generated/api.github.com.json
 *
 * Descriptions and examples are dropped and every $ref is resolved, so the fixture stands alone.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The operationIds we call, grouped by what they are for. */
export const OPERATIONS = [
  // refs and annotated tags (tag-release)
  'git/get-ref',
  'git/create-ref',
  'git/update-ref',
  'git/list-matching-refs',
  'git/create-tag',
  'git/get-tag',
  'git/get-commit',
  'repos/get-commit',
  'repos/compare-commits',
  'repos/get',
  // releases
  'repos/create-release',
  'repos/get-release-by-tag',
  'repos/update-release',
  'repos/list-releases',
  // the changelog file
  'repos/get-content',
  'repos/create-or-update-file-contents',
  // deployments (deploy)
  'repos/create-deployment',
  'repos/list-deployments',
  'repos/get-deployment',
  'repos/create-deployment-status',
  'repos/list-deployment-statuses',
] as const;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

/** The fixture's shape. */
export interface FixtureOperation {
  operationId: string;
  method: string;
  path: string;
  parameters: { name: string; in: 'path' | 'query' | 'header'; required: boolean; schema: JsonObject }[];
  requestBody?: { required: boolean; schema: JsonObject };
  /** Documented response status codes. */
  responses: string[];
}

// Keys that only document; dropping them keeps the fixture a few kilobytes.
const DROP = new Set(['description', 'examples', 'example', 'title', 'externalDocs', 'x-github', 'summary']);

function resolvePointer(root: JsonObject, ref: string): Json {
  if (!ref.startsWith('#/')) throw new Error(`unsupported $ref ${ref}`);
  return ref
    .slice(2)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<Json>((node, key) => (node as JsonObject)[key], root);
}

/**
 * Copy `node` with every $ref inlined (a recursive reference becomes `{}`, i.e. anything).
 * Inside `properties` the keys are property names (a body may have a "description"), so
 * nothing is dropped there.
 */
function inline(root: JsonObject, node: Json, seen: string[] = [], keysAreNames = false): Json {
  if (Array.isArray(node)) return node.map((n) => inline(root, n, seen));
  if (node === null || typeof node !== 'object') return node;
  if (!keysAreNames && typeof node.$ref === 'string') {
    if (seen.includes(node.$ref)) return {};
    return inline(root, resolvePointer(root, node.$ref), [...seen, node.$ref]);
  }
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) {
    if (!keysAreNames && DROP.has(k)) continue;
    out[k] = inline(root, v, seen, !keysAreNames && k === 'properties');
  }
  return out;
}

/** Extract the listed operations from an OpenAPI document. */
export function extract(spec: JsonObject, ids: readonly string[]): FixtureOperation[] {
  const found: FixtureOperation[] = [];
  const paths = spec.paths as Record<string, Record<string, JsonObject>>;
  for (const [p, item] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!ids.includes(op.operationId as string)) continue;
      const params = [...((item.parameters as unknown as Json[]) ?? []), ...((op.parameters as Json[]) ?? [])].map(
        (x) => inline(spec, x) as JsonObject,
      );
      const body = op.requestBody ? (inline(spec, op.requestBody) as JsonObject) : undefined;
      const content = body?.content as Record<string, JsonObject> | undefined;
      found.push({
        operationId: op.operationId as string,
        method: method.toUpperCase(),
        path: p,
        parameters: params.map((x) => ({
          name: x.name as string,
          in: x.in as 'path' | 'query' | 'header',
          required: Boolean(x.required),
          schema: (x.schema as JsonObject) ?? {},
        })),
        requestBody: content
          ? { required: Boolean(body!.required), schema: (content['application/json']?.schema as JsonObject) ?? {} }
          : undefined,
        responses: Object.keys((op.responses as JsonObject) ?? {}),
      });
    }
  }
  const missing = ids.filter((id) => !found.some((f) => f.operationId === id));
  if (missing.length) throw new Error(`operations not in the description: ${missing.join(', ')}`);
  return found.sort((a, b) => a.operationId.localeCompare(b.operationId));
}

function main(): void {
  const source = process.argv[2];
  if (!source) {
    console.error('usage: npx tsx scripts/extract-openapi.ts <path to @octokit/openapi generated/api.github.com.json>');
    process.exit(2);
  }
  const spec = JSON.parse(readFileSync(source, 'utf8')) as JsonObject;
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const out = path.join(root, 'test/fixtures/github-openapi.json');
  const info = spec.info as JsonObject;
  const fixture = {
    source: '@octokit/openapi generated/api.github.com.json',
    version: info.version,
    operations: extract(spec, OPERATIONS),
  };
  writeFileSync(out, JSON.stringify(fixture, null, 1) + '\n');
  console.log(`wrote ${path.relative(root, out)}: ${fixture.operations.length} operations`);
}

if (process.argv[1] && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href) main();
