/**
 * YAML parsing that remembers where every value came from, so a validation error can
 * name the file, line and column of the offending key.
 */
import jsyaml from 'js-yaml';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { UserError, type ErrorLocation } from './errors.js';

/** Where a YAML text came from: a file (errors are annotations on it) or an action input (they are not). */
export interface YamlOrigin {
  /** The text is an input's value: errors name it and the line, but no file for an annotation. */
  input?: boolean;
}

/** A parsed YAML text and a way to find any key path in it. */
export interface YamlSource {
  /** The file name used in messages (or the input's name, e.g. `input "checks"`). */
  readonly file: string;
  readonly value: unknown;
  /** Line and column (1-based) of the key or item at `path`, or of its nearest parent. */
  locate(path: readonly PropertyKey[]): ErrorLocation;
  /** A UserError pointing at `path`: "file:line:col: a.b[0]: message". */
  errorAt(path: readonly PropertyKey[], message: string): UserError;
}

/**
 * Parse YAML text; a syntax error becomes a UserError with its line and column. The value
 * comes from js-yaml (core schema, the same YAML 1.2 types as `yaml`), about eight times
 * faster on a cold start, which matters for a policy file of thousands of components; the
 * position-keeping `yaml` parse only runs when something is wrong and must be located.
 */
export function parseYaml(text: string, file: string, origin: YamlOrigin = {}): YamlSource {
  let value: unknown;
  try {
    value = jsyaml.load(text, { schema: jsyaml.CORE_SCHEMA, json: false }) ?? null;
  } catch {
    return parseYamlLocated(text, file, origin);
  }
  let located: YamlSource | undefined;
  const slow = () => (located ??= parseYamlLocated(text, file, origin));
  return {
    file,
    value,
    locate: (path) => slow().locate(path),
    errorAt: (path, message) => slow().errorAt(path, message),
  };
}

/** Parse with `yaml`, keeping every node's position. */
export function parseYamlLocated(text: string, file: string, origin: YamlOrigin = {}): YamlSource {
  // An annotation's file must be one the runner can show; an input's name is not.
  const annotation = (loc: ErrorLocation): ErrorLocation => (origin.input ? {} : loc);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = lineCounter.linePos(e.pos[0]);
    const detail = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new UserError(
      `${file}:${pos.line}:${pos.col}: invalid YAML: ${detail}`,
      annotation({ file, line: pos.line, column: pos.col }),
    );
  }
  const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  const locate = (path: readonly PropertyKey[]): ErrorLocation => {
    const offset = findOffset(doc, path);
    if (offset === undefined) return { file };
    const pos = lineCounter.linePos(offset);
    return { file, line: pos.line, column: pos.col };
  };
  return {
    file,
    value,
    locate,
    errorAt(path, message) {
      const loc = locate(path);
      const where = loc.line ? `${file}:${loc.line}:${loc.column}` : file;
      const key = formatPath(path);
      return new UserError(`${where}: ${key ? `${key}: ` : ''}${message}`, annotation(loc));
    },
  };
}

/** The text offset of the key (for maps) or item (for sequences) at `path`. */
function findOffset(doc: Document, path: readonly PropertyKey[]): number | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined = (node as Node | null)?.range?.[0];
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return offset;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) return offset;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      return offset;
    }
  }
  return offset;
}

/** `components.backend.dependsOn[0]` from a key path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}

/** Validate a parsed YAML value with zod; the first problem becomes a located UserError. */
export function validateYaml<T extends z.ZodType>(source: YamlSource, schema: T, base: PropertyKey[] = []): z.infer<T> {
  const value = base.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], source.value);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  let path = [...base, ...issue.path];
  let message = describeIssue(issue);
  if (issue.code === 'unrecognized_keys') {
    path = [...path, issue.keys[0]];
    message = `unknown key "${issue.keys[0]}"`;
  }
  throw source.errorAt(path, message);
}

/** zod's message, made to read as "expected …" where it can. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const m = issue.message.replace(/^Invalid input: /, '');
  if (issue.code === 'invalid_type' && / received undefined$/.test(m))
    return `is required (expected ${issue.expected})`;
  return m;
}
