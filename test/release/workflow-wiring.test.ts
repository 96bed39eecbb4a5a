/**
 * The workflows that reserve versions carry the components through: version-bump's
 * components to the reserve step, the reserved components to the release step, each
 * component's reserved version to the build and the deploys; the release workflow's
 * promote input reaches version-bump, and its promote runs release the components too.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../helpers/run-action.js';

interface Step {
  id?: string;
  uses?: string;
  if?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  jobs: Record<
    string,
    {
      if?: string;
      outputs?: Record<string, string>;
      steps: Step[];
      concurrency?: { group: string; 'cancel-in-progress': boolean };
    }
  >;
}

const FILES = [
  '.github/workflows/slipway-main.yml',
  '.github/workflows/slipway-hotfix.yml',
  '.github/workflows/slipway-release.yml',
  'examples/workflows/owned.yml',
];

const load = (file: string) => parse(readFileSync(path.join(ROOT, file), 'utf8')) as Workflow;
const steps = (w: Workflow) => Object.entries(w.jobs).flatMap(([job, j]) => j.steps.map((s) => ({ job, ...s })));
const uses = (s: Step, action: string) => s.uses?.includes(`/actions/${action}@`) ?? false;

describe.each(FILES)('%s', (file) => {
  const w = load(file);
  const reserve = steps(w).find((s) => uses(s, 'tag-release') && s.with?.reserve === true)!;

  it("reserves the moved components' versions with the product's, before the build", () => {
    expect(reserve).toBeDefined();
    expect(reserve.if).toContain(`contains(steps.bump.outputs.components, '"release":true')`);
    expect(reserve.with).toMatchObject({
      version: "${{ steps.bump.outputs.release == 'true' && steps.bump.outputs.version || '' }}",
      components: '${{ steps.bump.outputs.components }}',
      versions: '${{ steps.bump.outputs.versions }}',
    });
    expect(w.jobs[reserve.job].outputs).toMatchObject({
      components: '${{ steps.reserve.outputs.components || steps.bump.outputs.components }}',
      versions: '${{ steps.reserve.outputs.versions || steps.bump.outputs.versions }}',
    });
  });

  it('builds and deploys each component at its reserved version, and releases the reserved components', () => {
    const all = steps(w);
    for (const s of all.filter((x) => uses(x, 'deploy') || (uses(x, 'build-selective') && x.with?.run)))
      expect([s.job, s.with?.version]).toEqual([s.job, '${{ needs.version.outputs.versions }}']);
    const release = all.filter((s) => uses(s, 'tag-release') && s.with?.reserve !== true);
    expect(release).toHaveLength(1);
    expect(release[0].with?.components).toBe('${{ needs.version.outputs.components }}');
  });

  it('a run superseded by a newer push builds, deploys and releases nothing', () => {
    expect(w.jobs[reserve.job].outputs?.superseded).toBe('${{ steps.reserve.outputs.superseded }}');
    const gate = `needs.${reserve.job}.outputs.superseded == ''`;
    // Gated itself, or only after a gated job's success (a skipped job has no status output).
    const gated = (job: string): boolean => {
      const cond = w.jobs[job].if ?? '';
      if (cond.includes(gate)) return true;
      const after = /needs\.([\w-]+)\.outputs\.status == 'success'/.exec(cond);
      return after !== null && gated(after[1]);
    };
    const ships = steps(w).filter(
      (s) =>
        uses(s, 'deploy') ||
        (uses(s, 'build-selective') && s.with?.run) ||
        (uses(s, 'tag-release') && !s.with?.reserve),
    );
    expect(ships.length).toBeGreaterThan(0);
    for (const s of ships) expect([s.job, gated(s.job)]).toEqual([s.job, true]);
  });
});

it("the release workflow's promote runs go through version-bump, which finalizes every series", () => {
  const w = load('.github/workflows/slipway-release.yml');
  const bump = steps(w).find((s) => uses(s, 'version-bump'))!;
  expect(bump.with?.promote).toBe('${{ inputs.promote }}');
  // Two promote runs of a branch take turns at the reservation: the second finds the first's final tags.
  expect(w.jobs.version.concurrency?.group).toMatch(
    /inputs\.promote && format\('slipway-promote-\{0\}', github\.ref\)/,
  );
  expect(w.jobs.version.concurrency?.['cancel-in-progress']).toBe(false);
  // No step of its own cuts a candidate's suffix: version-bump decides the final versions.
  expect(readFileSync(path.join(ROOT, '.github/workflows/slipway-release.yml'), 'utf8')).not.toMatch(/%%-\*/);
});
