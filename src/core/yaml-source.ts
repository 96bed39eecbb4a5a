/**
 * YAML parsing that remembers where every value came from, so a validation error can
 * name the file, line and column of the offending key.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
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
 * Parse YAML text with `yaml`, keeping every node's position; a syntax error becomes a
 * UserError with its line and column. One parser gives both the value and the locations, so
 * the two can never disagree.
 */
export function parseYaml(text: string, file: string, origin: YamlOrigin = {}): YamlSource {
  // An annotation's file must be one the runner can show; an input's name is not.
  const annotation = (loc: ErrorLocation): ErrorLocation => (origin.input ? {} : loc);
  const lineCounter = new LineCounter();
  // Duplicate keys are found in toValue with a set per map: yaml's own check (`uniqueKeys`)
  // compares each key with every earlier one, which on a 2,000-component policy was a fifth of
  // the action's start-up.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = lineCounter.linePos(e.pos[0]);
    const detail = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new UserError(
      `${file}:${pos.line}:${pos.col}: invalid YAML: ${detail}`,
      annotation({ file, line: pos.line, column: pos.col }),
    );
  }
  const value = toValue(doc, lineCounter, file, annotation);
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

/** Keys that would set an object's prototype instead of being a key: never a name in a policy file. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The document's value. Refused, at their line: a key that appears twice in one map (the
 * second would silently win), aliases expanded more than 100 times (an "alias bomb", a
 * document of a few lines that expands to millions of nodes), and keys such as `__proto__`
 * that JavaScript objects cannot hold as plain keys (they would vanish).
 */
function toValue(
  doc: Document,
  lineCounter: LineCounter,
  file: string,
  annotation: (loc: ErrorLocation) => ErrorLocation,
): unknown {
  const fail = (offset: number | undefined, message: string): never => {
    const pos = lineCounter.linePos(offset ?? 0);
    throw new UserError(
      `${file}:${pos.line}:${pos.col}: ${message}`,
      annotation({ file, line: pos.line, column: pos.col }),
    );
  };
  let aliasAt: number | undefined;
  visit(doc, {
    Map(_, map) {
      // As JavaScript object keys: `1` and "1" are one key.
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (PROTOTYPE_KEYS.has(key))
          fail(
            pair.key.range?.[0],
            `key "${key}" is not allowed (expected a name of letters, digits, "-", "_" or ".")`,
          );
        if (seen.has(key))
          fail(pair.key.range?.[0], `invalid YAML: key "${key}" appears twice in the same map (keys must be unique)`);
        seen.add(key);
      }
    },
    Alias(_, alias) {
      aliasAt ??= alias.range?.[0];
    },
  });
  try {
    return doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (err) {
    if (err instanceof ReferenceError && /alias/i.test(err.message))
      fail(aliasAt, 'invalid YAML: aliases expand to too many nodes (more than 100 uses of an alias; an alias bomb?)');
    throw err;
  }
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
function formatPath(path: readonly PropertyKey[]): string {
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
  // A bad key of a record (a component's name): say which and what a name may be.
  if (issue.code === 'invalid_key') {
    const inner = issue.issues[0]?.message.replace(/^Invalid input: /, '') ?? 'not a valid name';
    return `invalid name: ${inner}`;
  }
  return m;
}
