/**
 * The `filters` input in dorny/paths-filter's format, so a workflow can switch with no
 * other change: `name: [globs]`, a single glob string, nested lists (from YAML anchors),
 * and change-type items such as `added|modified: 'src/**'`. The input is the YAML itself
 * or the path of a file holding it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../core/errors.js';
import { repoGlob } from '../core/repo-glob.js';
import { parseYaml, type YamlSource } from '../core/yaml-source.js';
import type { ChangeKind, PatternGroup, Selectable } from './patterns.js';

const KINDS: Record<string, ChangeKind[]> = {
  added: ['added'],
  modified: ['modified'],
  deleted: ['deleted'],
  // paths-filter reports git's own statuses; a rename is a deletion plus an addition there too.
  renamed: ['added', 'deleted'],
  copied: ['added'],
};

/** Parse the filters input into components (no dependencies); errors name the line. */
export function parseFilters(text: string, cwd: string): Selectable[] {
  const trimmed = text.trim();
  // paths-filter's rule: one line without ":" cannot be a mapping of filters, so it is a file's path.
  const source: YamlSource =
    !trimmed.includes('\n') && !trimmed.includes(':')
      ? parseYaml(readFilters(trimmed, cwd), trimmed)
      : parseYaml(text, 'input "filters"', { input: true });
  const value = source.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw source.errorAt([], 'expected a mapping of filter name to a list of globs (paths-filter format)');
  }
  const out: Selectable[] = [];
  for (const [name, rules] of Object.entries(value as Record<string, unknown>)) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name))
      throw source.errorAt([name], 'expected a filter name of letters, digits, "-", "_" or "."');
    const plain: string[] = [];
    const groups: PatternGroup[] = [];
    const walk = (item: unknown, at: PropertyKey[]): void => {
      if (typeof item === 'string') plain.push(repoGlob(item));
      else if (Array.isArray(item)) item.forEach((x, i) => walk(x, [...at, i]));
      else if (item && typeof item === 'object') {
        for (const [kinds, globs] of Object.entries(item as Record<string, unknown>)) {
          const changes = new Set<ChangeKind>();
          for (const k of kinds.split('|')) {
            const mapped = KINDS[k.trim()];
            if (!mapped)
              throw source.errorAt(
                [...at, kinds],
                `unknown change type "${k}" (expected ${Object.keys(KINDS).join(', ')})`,
              );
            mapped.forEach((m) => changes.add(m));
          }
          const list = (Array.isArray(globs) ? globs.flat(Infinity) : [globs]) as unknown[];
          if (!list.every((g) => typeof g === 'string'))
            throw source.errorAt([...at, kinds], 'expected a glob or a list of globs');
          groups.push({ patterns: (list as string[]).map(repoGlob), changes: [...changes] });
        }
      } else throw source.errorAt(at, `expected a glob or a list of globs, got ${JSON.stringify(item)}`);
    };
    walk(rules, [name]);
    if (plain.length) groups.unshift({ patterns: plain });
    if (!groups.length) throw source.errorAt([name], 'expected at least one glob');
    out.push({ name, groups, dependsOn: [] });
  }
  if (!out.length) throw source.errorAt([], 'expected at least one filter');
  return out;
}

/** The text of the filters file `file` (relative to the repository); a missing one is named as such. */
function readFilters(file: string, cwd: string): string {
  try {
    return readFileSync(path.resolve(cwd, file), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new UserError(
        `input "filters": file ${file} not found (expected the path of a paths-filter YAML file in the repository, or the filters YAML itself)`,
      );
    throw new UserError(`input "filters": cannot read file ${file}: ${code ?? String(err)}`);
  }
}
