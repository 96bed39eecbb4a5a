/**
 * A dry run (and so `slipway plan`) says what a real run of the release target would refuse
 * before it changes anything: a rollback to a release that pruning removed. On this machine
 * (the same steps as over SSH, tested in release-target.test.ts).
 */
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { runDeploy } from '../../src/deploy/deploy.js';
import { FileLedger } from '../../src/deploy/record/file-ledger.js';
import { createProduct, type Product } from './fixture.js';

let p: Product;
let app: string;
beforeEach(async () => {
  p = await createProduct();
  app = mkdtempSync(path.join(tmpdir(), 'slipway-preflight-'));
  p.writeConfig(
    stringify({
      components: { web: { deploy: { target: 'release', path: app, artifact: 'build', keep: 2 } } },
      environments: { staging: {} },
    }),
  );
});
afterEach(async () => {
  await p.close();
  rmSync(app, { recursive: true, force: true });
});

async function deploy(values: Record<string, string>) {
  mkdirSync(path.join(p.dir, 'build'), { recursive: true });
  if (values.version) writeFileSync(path.join(p.dir, 'build', 'VERSION'), `${values.version}\n`);
  const rt = p.runtime();
  let error: Error | undefined;
  try {
    await runDeploy({
      inputs: p.inputs({ environment: 'staging', timeout: '5', ...values }),
      record: new FileLedger(p.dir),
      runtime: rt,
    });
  } catch (err) {
    error = err as Error;
  }
  return { error, rt, refusal: (JSON.parse(rt.outputs.plan ?? '{}') as { refusal?: string | null }).refusal };
}

test('a dry-run rollback to a pruned release says a real run would stop there; one to a kept release does not', async () => {
  for (const version of ['1.0.0', '1.1.0', '1.2.0']) expect((await deploy({ version })).error).toBeUndefined();
  // keep: 2 pruned 1.0.0.
  const pruned = await deploy({ rollback: 'true', 'to-version': '1.0.0', 'dry-run': 'true' });
  expect(pruned.error).toBeUndefined();
  expect(pruned.refusal).toBe(`web: release 1.0.0 is not in ${app}/releases on this machine (pruned?)`);
  expect(pruned.rt.summaries.join('\n')).toContain('**A real run would stop here:** web: release 1.0.0 is not in');
  // The real run stops there, with current where it was.
  const real = await deploy({ rollback: 'true', 'to-version': '1.0.0' });
  expect(real.error?.message).toContain('release 1.0.0 is not in');
  expect(path.basename(readlinkSync(path.join(app, 'current')))).toBe('1.2.0');

  const kept = await deploy({ rollback: 'true', 'dry-run': 'true' });
  expect(kept.refusal).toBeNull();
  expect(kept.rt.text()).toContain('web rollback: switch');
});
