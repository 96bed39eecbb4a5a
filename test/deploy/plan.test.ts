/** Deploy planning as pure logic: waves from the dependency graph, what is skipped and why, located errors. */
import { describe, expect, it } from '@jest/globals';
import { parseConfig } from '../../src/core/config.js';
import { buildPlan } from '../../src/deploy/plan.js';

const config = parseConfig(
  [
    'components:',
    '  db: { kind: migrations, migrate: { dir: migrations } }',
    '  api: { dependsOn: [db], deploy: { run: ./deploy-api } }',
    '  bot: { dependsOn: [db], deploy: { run: ./deploy-bot } }',
    '  web: { dependsOn: [api], deploy: { run: ./deploy-web } }',
    '  docs: { paths: [docs/**] }',
    'environments:',
    '  staging: {}',
    '',
  ].join('\n'),
  '.github/slipway.yml',
);

const plan = (selected: string[], current: Record<string, string> = {}) =>
  buildPlan({
    config,
    environment: 'staging',
    environmentUrl: '',
    mode: 'deploy',
    selected: new Set(selected),
    current,
    choose: () => ({ next: '1.1.0' }),
  });

describe('deploy planning', () => {
  it('puts each component in the wave after what it depends on, migrations first', () => {
    const p = plan(['db', 'api', 'bot', 'web', 'docs'], { api: '1.0.0' });
    expect(p.waves).toEqual([['db'], ['api', 'bot'], ['web']]);
    expect(p.steps.find((s) => s.component === 'db')?.kind).toBe('migrate');
    expect(p.steps.find((s) => s.component === 'api')).toMatchObject({
      current: '1.0.0',
      next: '1.1.0',
      kind: 'deploy',
    });
    expect(p.skipped).toEqual([{ component: 'docs', reason: 'nothing to deploy (no deploy: or migrate:)' }]);
  });

  it('plans only what was selected, in the graph’s order', () => {
    expect(plan(['web', 'bot']).steps.map((s) => s.component)).toEqual(['bot', 'web']);
  });

  it('a bad target setting is an error at its line before anything runs', () => {
    const bad = parseConfig('components:\n  api:\n    deploy: { target: nomad }\n', 'p.yml');
    expect(() =>
      buildPlan({
        config: bad,
        environment: 'staging',
        environmentUrl: '',
        mode: 'deploy',
        selected: new Set(['api']),
        current: {},
        choose: () => ({ next: '1.0.0' }),
      }),
    ).toThrow(
      /^p\.yml:3:\d+: components\.api\.deploy\.target: unknown deploy target "nomad" \(expected one of: command, release, nginx/,
    );
  });
});
