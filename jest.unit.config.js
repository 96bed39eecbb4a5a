/**
 * `npm run test:unit`: the pure logic only (next versions, branch policy, planning, parsing,
 * selection, lint rules, messages), in seconds: no git repository, database, server or
 * subprocess. `npm test` runs these and every integration test.
 */
import base from './jest.config.js';

export default {
  ...base,
  testMatch: [
    '<rootDir>/test/changes/patterns.test.ts',
    '<rootDir>/test/checks/parse.test.ts',
    '<rootDir>/test/core/errors.test.ts',
    '<rootDir>/test/deploy/plan.test.ts',
    '<rootDir>/test/migrations/lint.test.ts',
    '<rootDir>/test/versioning/branch-policy.test.ts',
    '<rootDir>/test/versioning/conventional.test.ts',
  ],
  globalSetup: undefined,
  globalTeardown: undefined,
};
