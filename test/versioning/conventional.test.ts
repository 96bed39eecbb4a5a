import { describe, expect, it } from '@jest/globals';
import { parseCommit } from '../../src/versioning/conventional.js';
import { renderNotes } from '../../src/versioning/notes.js';

// The grammar parseCommit reads by hand, as the regular expression it replaced.
const HEADER = /^(?<type>[A-Za-z]+)(?:\((?<scope>[^()]*)\))?(?<bang>!)?:[ \t]*(?<desc>.+)$/;

describe('Conventional Commit headers', () => {
  it.each([
    'feat: add search',
    'Feat(API)!: rename',
    'fix(): empty scope',
    'fix(a b): spaced scope',
    'fix(a(b)): nested scope',
    'fix(a: unclosed scope',
    'fix)(: odd',
    'feat:no space',
    'feat:\t tab then space',
    'feat: ',
    'feat:',
    'feat!:',
    '!: no type',
    'feat1: digit in type',
    'feat : space before colon',
    'feat!(scope): bang before scope',
    'feat(scope)!!: two bangs',
    '  feat: leading blanks  ',
    'feat: carriage\rreturn',
    'feat: line\u2028separator',
    'WIP',
    '',
    'rëvert: non-ascii type',
    'revert: feat: something',
  ])('reads %j as the regular expression does', (subject) => {
    const c = parseCommit('0123456789abcdef', subject, '');
    const m = HEADER.exec(subject.trim());
    if (!m) {
      expect(c.type).toBe('');
      expect(c.description).toBe(subject);
      return;
    }
    expect(c.type).toBe(m.groups!.type.toLowerCase());
    expect(c.scope).toBe(m.groups!.scope || undefined);
    expect(c.breaking).toBe(Boolean(m.groups!.bang));
    expect(c.description).toBe(m.groups!.desc.trim());
  });

  it('reads footers, pull request numbers and reverts', () => {
    expect(parseCommit('a', 'fix: x', 'body\n\nBREAKING CHANGE: y').breaking).toBe(true);
    expect(parseCommit('a', 'fix: x', 'not BREAKING CHANGE: at the start').breaking).toBe(false);
    expect(parseCommit('a', 'docs: x', 'BREAKING-CHANGE: y').breaking).toBe(true);
    expect(parseCommit('a', 'feat: one-click (#42)', '').pr).toBe(42);
    expect(parseCommit('a', 'feat: (#42) in the middle', '').pr).toBeUndefined();
    expect(parseCommit('a', 'Merge pull request #7 from acme/x', '').pr).toBe(7);
    expect(parseCommit('a', 'Revert "feat: risky"', 'This reverts commit 0123456789abc.')).toMatchObject({
      type: 'revert',
      reverts: { sha: '0123456789abc', subject: 'feat: risky' },
    });
    expect(parseCommit('a', 'revert: feat: risky', '').reverts).toEqual({ sha: undefined, subject: 'feat: risky' });
  });
});

describe('the breaking change footer in the notes', () => {
  it('keeps the footer text, lines joined, up to the next trailer or blank line', () => {
    const body =
      'Longer why.\n\nBREAKING CHANGE: tokens are rotated every hour;\n  re-login after upgrading\nRefs: #12\n';
    expect(parseCommit('a', 'feat(auth)!: new auth', body).breakingNote).toBe(
      'tokens are rotated every hour; re-login after upgrading',
    );
    expect(parseCommit('a', 'feat!: x', '').breakingNote).toBeUndefined();
    expect(parseCommit('a', 'fix: x', 'BREAKING-CHANGE: y').breakingNote).toBe('y');
  });

  it('shows it under the breaking change, as semantic-release and release-please do', () => {
    const c = parseCommit('abcdef1234', 'feat(auth): new auth', 'BREAKING CHANGE: tokens are rotated');
    expect(renderNotes([c])).toBe('### Breaking changes\n\n- **auth:** new auth (abcdef1)\n  tokens are rotated');
  });
});
