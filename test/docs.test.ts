/**
 * The design pages name only what exists: every backticked path in docs/CONTRIBUTING.md and
 * docs/architecture.md is a file or folder of the repository, and every backticked code
 * name (a function, type or constant) is declared in src/ or test/.
 */
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './helpers/run-action.js';

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (/\.(ts|mjs|js)$/.test(name)) out.push(readFileSync(p, 'utf8'));
  }
  return out;
}

const code = [...sources(path.join(ROOT, 'src')), ...sources(path.join(ROOT, 'test/helpers'))].join('\n');

/** Backticked spans of a page, without fenced code blocks. */
function spans(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '');
  return [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);
}

describe.each(['docs/CONTRIBUTING.md', 'docs/architecture.md'])('%s', (file) => {
  const all = spans(file);

  it('names only paths that exist', () => {
    const paths = all
      .map((s) => s.replace(/^\.\.\//, ''))
      .filter(
        (s) => /^(src|test|docs|scripts|bench|actions|dist|examples)\//.test(s) || /^[\w-]+\.(ts|mjs|md)$/.test(s),
      )
      .map((s) => s.replace(/<[^>]+>.*$/, ''))
      .filter((s) => !s.includes('*'));
    expect(paths.length).toBeGreaterThan(0);
    const missing = paths.filter((p) => {
      const candidates = [p, `src/${p}`, `src/deploy/${p}`, `test/helpers/${p}`, `src/cli/${p}`, `docs/${p}`];
      return !candidates.some((c) => existsSync(path.join(ROOT, c)));
    });
    expect(missing).toEqual([]);
  });

  it('names only code that is declared', () => {
    // camelCase or PascalCase names, with or without a call: loadConfig, DeployRun, TARGETS.
    const names = all
      .map((s) => s.replace(/\(.*$/, ''))
      .filter((s) => /^([a-z]+[A-Z]\w*|[A-Z][a-z]+[A-Z]\w*|[A-Z][A-Z_]{3,})$/.test(s));
    expect(names.length).toBeGreaterThan(0);
    const missing = names.filter(
      (n) => !new RegExp(`(function|class|interface|type|const|let)\\s+${n}\\b|\\b${n}\\s*[:(]`).test(code),
    );
    expect(missing).toEqual([]);
  });
});
