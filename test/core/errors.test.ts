import { describe, expect, it } from '@jest/globals';
import { UserError } from '../../src/core/errors.js';

describe('UserError', () => {
  it('cuts a long echoed value to its start and length, and leaves the rest of the message whole', () => {
    const e = new UserError(`input "environment": expected a name such as staging, got "${'x'.repeat(10_000)}"`);
    expect(e.message).toBe(
      `input "environment": expected a name such as staging, got "${'x'.repeat(60)}…" (10000 characters)`,
    );
    const quotedText = `the lock is held ("someone else", pid 1, connected at ${'2026-12-02 '.repeat(12)}) (input "lock-timeout")`;
    expect(new UserError(quotedText).message).toBe(quotedText);
    expect(new UserError('got "short"').message).toBe('got "short"');
  });
});

it('cuts any long quoted value, not only after "got"', () => {
  expect(new UserError(`unknown environment "${'y'.repeat(500)}" in .github/slipway.yml`).message).toBe(
    `unknown environment "${'y'.repeat(60)}…" (500 characters) in .github/slipway.yml`,
  );
});
