import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { parseConfig } from '../src/core/config.js';
import {
  actionFiles,
  actionlint,
  actionParserErrors,
  parserErrors,
  policyErrors,
  workflowFiles,
} from '../scripts/workflow-checks.js';
import { releaseGateErrors } from '../scripts/lint-workflows.js';
import { ROOT } from './helpers/run-action.js';
import { parse, stringify } from 'yaml';

describe('workflows and action.yml files', () => {
  it.each(workflowFiles(ROOT))('%s passes GitHub’s parser and Slipway’s rules', (file) => {
    expect(parserErrors(ROOT, file)).toEqual([]);
    expect(policyErrors(ROOT, file)).toEqual([]);
    expect(releaseGateErrors(file, readFileSync(path.join(ROOT, file), 'utf8'))).toEqual([]);
  });

  it.each(actionFiles(ROOT))('%s passes GitHub’s action parser', (file) => {
    expect(actionParserErrors(ROOT, file)).toEqual([]);
  });

  it('passes actionlint', () => {
    expect(actionlint(ROOT)).toEqual([]);
  });

  it('the example policy file is valid', () => {
    const config = parseConfig(readFileSync(path.join(ROOT, 'examples/slipway.yml'), 'utf8'), 'examples/slipway.yml');
    expect(Object.keys(config.components)).toContain('backend');
    // It shows the keys an adopter needs: promotion, the destructive-migration switch, notifications.
    expect(config.environments.production?.after).toBe('staging');
    expect(config.components.schema?.migrate?.allowDestructive).toBe(false);
    expect(config.notify.map((n) => (n.kind === 'email' ? n.smtp.url.env : n.webhook.env))).toEqual([
      'SLACK_WEBHOOK_URL',
    ]);
  });
});

describe('the workflow checks catch mistakes', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-wf-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, '.github/workflows'), { recursive: true });
  cpSync(path.join(ROOT, 'actions'), path.join(dir, 'actions'), { recursive: true });
  writeFileSync(
    path.join(dir, '.github/workflows/bad.yml'),
    [
      'on: push',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - uses: actions/checkout@v4',
      '      - uses: slipway-actions/slipway/actions/version-bump@v1',
      '        with: { bumpp: major }',
      '      - run: echo ${{ github.nope }}',
      '',
    ].join('\n'),
  );

  it('flags unpinned actions, missing permissions and unknown inputs', () => {
    expect(policyErrors(dir, '.github/workflows/bad.yml')).toEqual([
      '.github/workflows/bad.yml: no top-level permissions (set the least the jobs need)',
      '.github/workflows/bad.yml: job a: step #3: template-injection: ${{ }} inside run:; pass the value through env: and use "$NAME"',
      '.github/workflows/bad.yml: job a: actions/checkout@v4 is not pinned by commit SHA',
      '.github/workflows/bad.yml: job a: version-bump has no input "bumpp"',
      ".github/workflows/bad.yml: job a runs version-bump without actions/checkout's fetch-depth: 0 (deepening a shallow clone needs the credentials checkout does not persist)",
    ]);
  });

  it('runs actionlint for real', () => {
    const findings = actionlint(dir).join('\n');
    expect(findings).toContain('property "nope" is not defined');
  });

  it('runs GitHub’s parser for real', () => {
    writeFileSync(
      path.join(dir, '.github/workflows/broken.yml'),
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n',
    );
    expect(parserErrors(dir, '.github/workflows/broken.yml').join('\n')).toMatch(/stepz/);
  });
});

describe('Slipway’s workflow rules', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-wf-rules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, '.github/workflows'), { recursive: true });
  cpSync(path.join(ROOT, 'actions'), path.join(dir, 'actions'), { recursive: true });
  cpSync(path.join(ROOT, 'action.yml'), path.join(dir, 'action.yml'));
  const CHECKOUT = 'actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8';
  const SECRETS = { SLIPWAY_SECRETS: '${{ secrets.SLIPWAY_SECRETS }}' };
  const check = (name: string, jobs: Record<string, unknown>) => {
    const file = `.github/workflows/${name}.yml`;
    writeFileSync(
      path.join(dir, file),
      stringify({ on: { workflow_call: {} }, permissions: { contents: 'read' }, jobs }),
    );
    return policyErrors(dir, file).map((e) => e.slice(file.length + 2));
  };
  const checkout = (depth?: number) => ({
    uses: CHECKOUT,
    with: { 'persist-credentials': false, ...(depth === undefined ? {} : { 'fetch-depth': depth }) },
  });
  const job = (steps: unknown[], extra: Record<string, unknown> = {}) => ({
    'runs-on': 'ubuntu-24.04',
    ...extra,
    steps,
  });
  const deploy = (environment: string, env: unknown = SECRETS) => ({
    id: 'deploy',
    uses: 'slipway-actions/slipway/actions/deploy@v1',
    env,
    with: { environment, version: '${{ needs.version.outputs.version }}' },
  });
  const build = {
    uses: 'slipway-actions/slipway/actions/build-selective@v1',
    env: SECRETS,
    with: { component: 'api', run: true },
  };

  it('in a reusable workflow, every step that runs the user’s commands or notifies carries SLIPWAY_SECRETS, and no other step gets secrets', () => {
    expect(
      check('secrets', {
        a: job([
          checkout(0),
          { uses: 'slipway-actions/slipway/actions/version-bump@v1', env: { GH: '${{ secrets.GITHUB_TOKEN }}' } },
          { id: 'sel', uses: 'slipway-actions/slipway/actions/build-selective@v1', env: SECRETS },
          { uses: 'slipway-actions/slipway/actions/build-selective@v1', with: { run: true } },
          { uses: 'slipway-actions/slipway/actions/migrate@v1' },
          deploy('staging', { OTHER: 'x' }),
          { name: 'smoke', uses: 'slipway-actions/slipway/actions/smoke-test@v1', env: SECRETS },
          {
            uses: 'slipway-actions/slipway/actions/tag-release@v1',
            env: { SLIPWAY_SECRETS: '${{ secrets.ONE }}' },
            with: { version: '1.0.0' },
          },
          { uses: 'slipway-actions/slipway@v1', with: { mode: 'main' } },
          {
            id: 'reserve',
            uses: 'slipway-actions/slipway/actions/tag-release@v1',
            env: SECRETS,
            with: { version: '1.0.0', reserve: true },
          },
        ]),
      }),
    ).toEqual([
      'job a: step sel runs build-selective, which runs none of your commands, yet is given secrets (least secrets: remove them)',
      'job a: step #4 runs build-selective with run without env SLIPWAY_SECRETS: ${{ secrets.SLIPWAY_SECRETS }} (a step sees no secret it is not given)',
      'job a: step #5 runs migrate without env SLIPWAY_SECRETS: ${{ secrets.SLIPWAY_SECRETS }} (a step sees no secret it is not given)',
      'job a: step deploy runs deploy without env SLIPWAY_SECRETS: ${{ secrets.SLIPWAY_SECRETS }} (a step sees no secret it is not given)',
      'job a: step #8 runs tag-release without env SLIPWAY_SECRETS: ${{ secrets.SLIPWAY_SECRETS }} (a step sees no secret it is not given)',
      'job a: step #9 runs pipeline without env SLIPWAY_SECRETS: ${{ secrets.SLIPWAY_SECRETS }} (a step sees no secret it is not given)',
      'job a: step reserve runs tag-release, which runs none of your commands, yet is given secrets (least secrets: remove them)',
    ]);
  });

  it('jobs that detect changes or compute versions check out the full history', () => {
    const why = '(deepening a shallow clone needs the credentials checkout does not persist)';
    expect(
      check('history', {
        shallow: job([checkout(), { uses: 'slipway-actions/slipway/actions/build-selective@v1' }]),
        full: job([checkout(0), { uses: 'slipway-actions/slipway/actions/build-selective@v1' }]),
        'one-component': job([checkout(), build]),
        version: job([checkout(1), { uses: 'slipway-actions/slipway/actions/version-bump@v1' }]),
        'no-checkout': job([{ uses: 'slipway-actions/slipway@v1', env: SECRETS }]),
      }),
    ).toEqual([
      `job shallow runs build-selective (change detection) without actions/checkout's fetch-depth: 0 ${why}`,
      `job version runs version-bump without actions/checkout's fetch-depth: 0 ${why}`,
      `job no-checkout runs pipeline without actions/checkout's fetch-depth: 0 ${why}`,
    ]);
  });

  it('a production deploy job has a build and a staging deploy upstream, and requires staging to have succeeded', () => {
    const ok = {
      version: job([checkout(0)]),
      build: job([checkout(), build], { needs: ['version'] }),
      staging: job([checkout(), deploy('${{ inputs.staging }}')], {
        needs: ['version', 'build'],
        outputs: { status: '${{ steps.deploy.outputs.status }}' },
      }),
      production: job([checkout(), deploy('${{ inputs.production }}')], {
        needs: ['version', 'staging'],
        if: "${{ !failure() && !cancelled() && needs.staging.outputs.status == 'success' }}",
      }),
      rollback: job([checkout(), { ...deploy('production'), with: { environment: 'production', rollback: true } }]),
    };
    expect(check('promotion-ok', ok)).toEqual([]);

    expect(
      check('promotion-direct', {
        version: ok.version,
        production: { ...ok.production, needs: ['version'], if: '${{ !failure() }}' },
      }),
    ).toEqual([
      'job production deploys to production with no build job upstream in its needs',
      'job production deploys to production with no staging deploy job upstream in its needs',
      "job production deploys to production without requiring a staging deploy job it needs to succeed (if: needs.<staging job>.outputs.status == 'success')",
    ]);

    // The promotion bug: the chain is there, but with !failure() a skipped staging job lets production run.
    expect(
      check('promotion-ungated', {
        ...ok,
        tag: job([checkout(0)], { needs: ['version', 'staging'] }),
        production: {
          ...ok.production,
          needs: ['version', 'tag'],
          if: '${{ !failure() && !cancelled() && inputs.promote }}',
        },
      }),
    ).toEqual([
      "job production deploys to production without requiring a staging deploy job it needs to succeed (if: needs.<staging job>.outputs.status == 'success')",
    ]);
  });

  it('a job or step gated on the product’s release alone is caught: a component series’ release ships too', () => {
    const version = job([checkout(0), { id: 'bump', uses: 'slipway-actions/slipway/actions/version-bump@v1' }], {
      outputs: {
        version: '${{ steps.bump.outputs.version }}',
        release: '${{ steps.bump.outputs.release }}',
        components: '${{ steps.bump.outputs.components }}',
      },
    });
    const either = `(needs.version.outputs.release == 'true' || contains(needs.version.outputs.components, '"release":true'))`;
    const tag = (release: string) => ({
      uses: 'slipway-actions/slipway/actions/tag-release@v1',
      env: SECRETS,
      with: { version: release, components: '${{ needs.version.outputs.components }}' },
    });
    const jobs = {
      version: {
        ...version,
        steps: [
          ...version.steps,
          {
            id: 'reserve',
            if: "steps.bump.outputs.release == 'true'",
            uses: 'slipway-actions/slipway/actions/tag-release@v1',
            with: { version: '${{ steps.bump.outputs.version }}', reserve: true },
          },
        ],
      },
      build: job([checkout(), build], {
        needs: ['version'],
        if: "needs.version.outputs.release == 'true' && needs.version.outputs.superseded == ''",
      }),
      ok: job(
        [checkout(0), tag("${{ needs.version.outputs.release == 'true' && needs.version.outputs.version || '' }}")],
        {
          needs: ['version', 'build'],
          if: `\${{ !failure() && ${either} }}`,
        },
      ),
      tag: job([checkout(0), tag('${{ needs.version.outputs.version }}')], {
        needs: ['version', 'build'],
        if: "${{ !failure() && needs.version.outputs.release == 'true' }}",
      }),
    };
    const file = '.github/workflows/gates.yml';
    const alone = (source: string) =>
      `if: ${source}.outputs.release == 'true' alone skips a run where only a component series releases; write (${source}.outputs.release == 'true' || contains(${source}.outputs.components, '"release":true'))`;
    expect(releaseGateErrors(file, stringify({ jobs })).map((e) => e.slice(file.length + 2))).toEqual([
      `job version: step reserve: ${alone('steps.bump')}`,
      `job version: step reserve: tag-release's version is steps.bump.outputs.version even when only a component series releases (then it is the product's last version, tagged on another commit); write \${{ steps.bump.outputs.release == 'true' && steps.bump.outputs.version || '' }}`,
      `job build: ${alone('needs.version')}`,
      `job tag: ${alone('needs.version')}`,
      `job tag: step #2: tag-release's version is needs.version.outputs.version even when only a component series releases (then it is the product's last version, tagged on another commit); write \${{ needs.version.outputs.release == 'true' && needs.version.outputs.version || '' }}`,
    ]);
  });

  it('the release and hotfix workflows build, stage and tag a component series’ release with no product release', () => {
    const either = `(needs.version.outputs.release == 'true' || contains(needs.version.outputs.components, '"release":true'))`;
    for (const [name, jobs] of [
      ['slipway-release.yml', ['build', 'staging', 'tag']],
      ['slipway-hotfix.yml', ['staging', 'release']],
    ] as const) {
      const w = parse(readFileSync(path.join(ROOT, '.github/workflows', name), 'utf8')) as {
        jobs: Record<string, { if: string; steps: { uses?: string; with?: Record<string, string> }[] }>;
      };
      for (const j of jobs) expect([name, j, w.jobs[j].if]).toEqual([name, j, expect.stringContaining(either)]);
      const tag = Object.values(w.jobs)
        .flatMap((j) => j.steps)
        .find((s) => s.uses?.includes('/actions/tag-release@') && !s.with?.reserve);
      expect(tag?.with?.version).toBe(
        "${{ needs.version.outputs.release == 'true' && needs.version.outputs.version || '' }}",
      );
    }
  });

  it('the hotfix workflow gives version-bump no manual bump: the hotfix/* rule patches only the series with commits', () => {
    const w = parse(readFileSync(path.join(ROOT, '.github/workflows/slipway-hotfix.yml'), 'utf8')) as {
      jobs: Record<string, { steps: { uses?: string; with?: Record<string, string> }[] }>;
    };
    const bump = w.jobs.version.steps.find((s) => s.uses?.includes('/actions/version-bump@'));
    expect(bump?.with).toEqual({ config: '${{ inputs.config }}' });
  });

  it('the reusable workflows promote only what was built and staged in the same run', () => {
    const release = parse(readFileSync(path.join(ROOT, '.github/workflows/slipway-release.yml'), 'utf8')) as {
      jobs: Record<string, { needs: string[]; if: string }>;
    };
    expect(release.jobs.production.needs).toEqual(expect.arrayContaining(['build', 'staging']));
    expect(release.jobs.production.if).toContain("needs.staging.outputs.status == 'success'");
    expect(release.jobs.staging.if).not.toContain('!inputs.promote');
    expect(release.jobs.changes.if).toBeUndefined();
    expect(release.jobs.tag.needs).toContain('production');
    expect(release.jobs.tag.if).toContain("needs.production.outputs.status == 'success'");
  });
});

describe('zizmor’s audits, enforced by npm run lint', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'slipway-wf-audits-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, '.github/workflows'), { recursive: true });
  cpSync(path.join(ROOT, 'actions'), path.join(dir, 'actions'), { recursive: true });
  cpSync(path.join(ROOT, 'action.yml'), path.join(dir, 'action.yml'));
  const CHECKOUT = 'actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8';
  const audit = (name: string, doc: Record<string, unknown>) => {
    const file = `.github/workflows/${name}.yml`;
    writeFileSync(path.join(dir, file), stringify({ on: 'push', permissions: {}, ...doc }));
    return policyErrors(dir, file)
      .map((e) => e.slice(file.length + 2))
      .filter((e) => !/fetch-depth|deploys to production with|unknown workflow/.test(e));
  };
  const steps = (list: unknown[]) => ({ jobs: { a: { 'runs-on': 'ubuntu-24.04', steps: list } } });

  it('overprovisioned-secrets: toJSON(secrets) and secrets[…]', () => {
    expect(
      audit(
        'over',
        steps([{ run: 'true', env: { ALL: '${{ toJSON(secrets) }}', ONE: "${{ secrets[format('{0}', 'X')] }}" } }]),
      ),
    ).toEqual([
      'overprovisioned-secrets: toJSON(secrets) hands every secret over; pass the ones needed by name',
      'overprovisioned-secrets: secrets[…] picks a secret by a computed name; name it',
    ]);
  });

  it('secrets-inherit', () => {
    expect(
      audit('inherit', {
        jobs: { a: { uses: 'slipway-actions/slipway/.github/workflows/slipway-main.yml@v1', secrets: 'inherit' } },
      }),
    ).toEqual(['job a: secrets-inherit: secrets: inherit passes every secret; pass the ones it declares by name']);
  });

  it('template-injection: an expression inside run:', () => {
    expect(audit('inject', steps([{ run: 'echo "${{ github.event.head_commit.message }}"' }]))).toEqual([
      'job a: step #1: template-injection: ${{ }} inside run:; pass the value through env: and use "$NAME"',
    ]);
    expect(
      audit('inject-ok', steps([{ run: 'echo "$MSG"', env: { MSG: '${{ github.event.head_commit.message }}' } }])),
    ).toEqual([]);
  });

  it('unpinned-uses: a third-party action by tag or branch', () => {
    expect(audit('unpinned', steps([{ uses: 'actions/checkout@v5' }, { uses: CHECKOUT }]))).toEqual([
      'job a: actions/checkout@v5 is not pinned by commit SHA',
    ]);
  });

  it('excessive-permissions: writes at the top level, write-all anywhere', () => {
    expect(audit('perm-top', { permissions: { contents: 'write' }, ...steps([{ run: 'true' }]) })).toEqual([
      'excessive-permissions: the top-level permissions grant contents: write to every job; set permissions: {} or read access at the top and grant writes in the jobs that need them',
    ]);
    expect(
      audit('perm-job', {
        jobs: { a: { 'runs-on': 'ubuntu-24.04', permissions: 'write-all', steps: [{ run: 'true' }] } },
      }),
    ).toEqual(['job a: excessive-permissions: write-all; grant only the scopes the job needs']);
    expect(
      audit('perm-ok', {
        jobs: { a: { 'runs-on': 'ubuntu-24.04', permissions: { contents: 'write' }, steps: [{ run: 'true' }] } },
      }),
    ).toEqual([]);
  });

  it('cache-poisoning: a cache restored in a workflow that publishes, and not in one that does not', () => {
    const cached = [
      { uses: 'actions/cache@0057852bfaa89a56745cba8c7296529d2fc39830', with: { path: 'x', key: 'k' } },
      { uses: 'actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020', with: { cache: 'npm' } },
      {
        uses: 'slipway-actions/slipway/actions/build-selective@v1',
        with: { component: 'api', run: true, cache: true },
      },
    ];
    const publish = {
      uses: 'slipway-actions/slipway/actions/tag-release@v1',
      with: { version: '1.0.0' },
    };
    expect(audit('cache-release', steps([...cached, publish]))).toEqual([
      'job a: step #1: cache-poisoning: actions/cache in a workflow that publishes (deploys to production or releases); build from clean inputs',
      'job a: step #2: cache-poisoning: actions/setup-node with cache in a workflow that publishes (deploys to production or releases); build from clean inputs',
      'job a: step #3: cache-poisoning: build-selective with cache: true in a workflow that publishes (deploys to production or releases); build from clean inputs',
    ]);
    expect(audit('cache-ci', steps(cached))).toEqual([]);
  });

  it('the README’s first workflow is examples/workflows/minimal.yml, which these checks pass', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const first = /```yaml\n([\s\S]*?)```/.exec(readme)![1];
    expect(first).toBe(readFileSync(path.join(ROOT, 'examples/workflows/minimal.yml'), 'utf8'));
    expect(policyErrors(ROOT, 'examples/workflows/minimal.yml')).toEqual([]);
  });
});
