import { describe, expect, it } from '@jest/globals';
import picomatch from 'picomatch';
import { compileGlobs } from '../../src/changes/patterns.js';

describe('compiled globs', () => {
  const files = [
    'web',
    'web/',
    'web/index.ts',
    'web/.env',
    'web/a/b/c.ts',
    'webx/a.ts',
    'web.app/x',
    'a.b/c',
    'a.b',
    'services/api/main.go',
    'services/api',
    'services/apix/main.go',
    'services/api/.github/x',
    'README.md',
    'x/web/y',
  ];
  const lists = [
    ['web/**'],
    ['a.b/**'],
    ['services/api/**'],
    ['web/**', 'services/api/**'],
    ['web/*'],
    ['web/**/*.ts'],
    ['**/web/**'],
    ['web/**', '!web/.env'],
    ['services/*/main.go'],
    ['README.md'],
    ['web{,x}/**'],
    ['w?b/**'],
  ];
  it.each(lists.map((l) => [l.join(' ')]))('%s answers as picomatch does (dot files included)', (joined) => {
    const patterns = joined.split(' ');
    const ours = compileGlobs(patterns);
    const pos = patterns.filter((p) => !p.startsWith('!'));
    const neg = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
    const reference = (f: string) =>
      picomatch(pos, { dot: true })(f) && !(neg.length && picomatch(neg, { dot: true })(f));
    for (const f of files) expect([f, ours(f)]).toEqual([f, reference(f)]);
  });

  it('a path without glob characters names that file or folder and everything in it, as git reads it', () => {
    for (const pattern of ['services/api', 'services/api/']) {
      const match = compileGlobs([pattern]);
      expect(files.filter(match)).toEqual(['services/api/main.go', 'services/api', 'services/api/.github/x']);
    }
    expect(files.filter(compileGlobs(['README.md']))).toEqual(['README.md']);
    // Excluded the same way: the whole folder.
    expect(files.filter(compileGlobs(['web/**', '!web/a']))).toEqual(['web', 'web/', 'web/index.ts', 'web/.env']);
  });
});
