/**
 * The kubernetes target with the real kubectl against the test API server
 * (test/helpers/kube-server.ts): a good image rolls out, a bad one fails at its progress
 * deadline and goes back to the recorded last good image (not the previous revision), and the
 * kubeconfig secret never reaches the output.
 */
import { jest } from '@jest/globals';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { runDeploy } from '../../src/deploy/deploy.js';
import { FileLedger } from '../../src/deploy/record/file-ledger.js';
import { TARGETS } from '../../src/deploy/targets/index.js';
import { startKubeServer, type KubeServer } from '../helpers/kube-server.js';
import { createProduct, type Product } from './fixture.js';

jest.setTimeout(120_000);

const TOKEN = 'kube-token-7f3a9c1e5b';
let p: Product;
let kube: KubeServer;
let record: FileLedger;

// The target's temporary folders go to a TMPDIR of this file's own, so that another test file
// running in parallel cannot add to or take from what the leftover check sees.
const previousTmpdir = process.env.TMPDIR;
let privateTmp: string;

beforeAll(async () => {
  p = await createProduct();
  privateTmp = mkdtempSync(path.join(tmpdir(), 'kube-test-tmp-'));
  process.env.TMPDIR = privateTmp;
  kube = await startKubeServer();
  record = new FileLedger(p.dir);
  kube.addDeployment({
    namespace: 'prod',
    name: 'api',
    container: 'app',
    image: 'example/api:0.9.0',
    progressDeadlineSeconds: 2,
  });
  p.writeConfig(
    stringify({
      components: {
        api: {
          deploy: {
            target: 'kubernetes',
            resource: 'deployment/api',
            container: 'app',
            image: 'example/api:{version}',
            namespace: 'prod',
            kubeconfig: { env: 'KUBE_CONFIG' },
            timeout: 60,
          },
        },
      },
      environments: { production: { url: p.url } },
    }),
  );
});
afterAll(async () => {
  if (previousTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = previousTmpdir;
  rmSync(privateTmp, { recursive: true, force: true });
  await kube.close();
  await p.close();
});

const kubeTemps = () => readdirSync(privateTmp).filter((f) => f.startsWith('slipway-kube-'));

async function deploy(values: Record<string, string>) {
  const rt = createMemoryRuntime({ cwd: p.dir, env: { ...process.env, KUBE_CONFIG: kube.kubeconfig(TOKEN) } });
  let error: Error | undefined;
  try {
    await runDeploy({
      inputs: p.inputs({ environment: 'production', timeout: '5', ...values }),
      record,
      runtime: rt,
      targets: TARGETS,
    });
  } catch (err) {
    error = err as Error;
  }
  const everything = [rt.text(), JSON.stringify(rt.outputs), error?.message ?? ''].join('\n');
  return { rt, error, everything };
}

test('a good image rolls out and reports success; the plan shows the kubectl commands', async () => {
  const r = await deploy({ version: '1.0.0' });
  expect(r.error).toBeUndefined();
  expect(r.rt.outputs.status).toBe('success');
  expect(kube.image('prod', 'api', 'app')).toBe('example/api:1.0.0');
  expect(r.rt.text()).toContain('deployment "api" successfully rolled out');
  expect(JSON.parse(r.rt.outputs.plan).waves[0][0].commands.run).toBe(
    'kubectl -n prod --kubeconfig <temp file> set image deployment/api app=example/api:$SLIPWAY_VERSION; ' +
      'kubectl -n prod --kubeconfig <temp file> rollout status deployment/api --timeout=60s',
  );
  // kubectl used the secret (the server saw the token), the output never shows it, the file is gone.
  expect(kube.authorizations).toContain(`Bearer ${TOKEN}`);
  expect(r.everything).not.toContain(TOKEN);
  expect(kubeTemps()).toEqual([]);

  expect((await deploy({ version: '1.1.0' })).rt.outputs.status).toBe('success');
  expect(kube.schemaErrors).toEqual([]);
});

test('a bad image fails in one line at its progress deadline and is rolled back to the recorded image', async () => {
  kube.bad.add('example/api:1.2.0');
  const r = await deploy({ version: '1.2.0' });
  expect(r.rt.outputs.status).toBe('rolled-back');
  expect(r.error?.message.includes('\n')).toBe(false);
  expect(r.error?.message).toMatch(
    /failed at api 1\.2\.0: deployment\/api exceeded its progress deadline with example\/api:1\.2\.0 \(kubectl rollout status\); rolled back/,
  );
  expect(kube.image('prod', 'api', 'app')).toBe('example/api:1.1.0');
  expect(r.everything).not.toContain(TOKEN);
  expect(kube.schemaErrors).toEqual([]);
});

test('after two bad deploys in a row the rollback goes to the last good image, not the previous revision', async () => {
  kube.bad.add('example/api:1.3.0');
  kube.bad.add('example/api:1.4.0');
  // The first bad one stays (auto-rollback off), as after a run someone cancelled.
  const first = await deploy({ version: '1.3.0', 'auto-rollback': 'false' });
  expect(first.rt.outputs.status).toBe('failed');
  expect(kube.image('prod', 'api', 'app')).toBe('example/api:1.3.0');

  const second = await deploy({ version: '1.4.0' });
  expect(second.rt.outputs.status).toBe('rolled-back');
  expect(second.error?.message).toMatch(/deployment\/api exceeded its progress deadline with example\/api:1\.4\.0/);
  // `kubectl rollout undo` would have gone to the revision before 1.4.0: the bad 1.3.0.
  const revisions = kube.revisions('prod', 'api').map((r) => r.image);
  expect(revisions.slice(-3)).toEqual(['example/api:1.3.0', 'example/api:1.4.0', 'example/api:1.1.0']);
  expect(kube.image('prod', 'api', 'app')).toBe('example/api:1.1.0');
  // Rollback never used kubectl rollout undo (it would read the replicasets to find the revision).
  expect(kube.requests.filter((r) => r.includes('/replicasets'))).toEqual([]);

  // status reads the container's image tag.
  const dry = await deploy({ version: '1.5.0', 'dry-run': 'true' });
  expect(dry.rt.text()).toContain('api on production: running 1.1.0 (status command).');
  // The plan says what each step would run.
  expect(dry.rt.text()).toContain(
    'api run: kubectl -n prod --kubeconfig <temp file> set image deployment/api app=example/api:$SLIPWAY_VERSION;',
  );
  expect(dry.rt.text()).toContain(
    'api rollback: the same with the recorded last good version (never kubectl rollout undo)',
  );
  expect(dry.everything).not.toContain(TOKEN);
  expect(kube.schemaErrors).toEqual([]);
});

test('bad settings are one line naming the key', async () => {
  const { kubernetesTarget } = await import('../../src/deploy/targets/kubernetes.js');
  const build = (deploy: Record<string, unknown>) => {
    try {
      kubernetesTarget({
        component: {} as never,
        deploy: { target: 'kubernetes', ...deploy },
        errorAt: (key, message) => new Error(`${key}: ${message}`),
      });
      return 'ok';
    } catch (err) {
      return (err as Error).message;
    }
  };
  expect(build({ image: 'a:{version}' })).toBe(
    'resource: a kubernetes target needs "resource" (the workload, for example "deployment/api")',
  );
  expect(build({ resource: 'deployment/api', image: 'a:latest' })).toMatch(/^image: expected "\{version\}"/);
  expect(build({ resource: 'deployment/api', image: 'a:{version}', kubeconfig: 'raw text' })).toMatch(
    /^kubeconfig: expected \{ env: NAME \}/,
  );
  expect(build({ resource: 'deployment/api', image: 'a:{version}' })).toBe('ok');
});

test('the test API server sends a watch its headers before any event, as the real one does', async () => {
  // kubectl's informer cannot stop until its watch has its headers: a server holding them back
  // until the first event hung `kubectl rollout status` past its --timeout when the rollout
  // finished between its list and its watch (the full suite's load hit that window).
  const { request } = await import('node:https');
  const url = new URL(`${kube.url}/apis/apps/v1/namespaces/prod/deployments`);
  url.searchParams.set('watch', 'true');
  url.searchParams.set('fieldSelector', 'metadata.name=no-such-deployment');
  url.searchParams.set('resourceVersion', '999999999');
  const ca = Buffer.from(/certificate-authority-data: (\S+) \}/.exec(kube.kubeconfig(TOKEN))![1], 'base64');
  const status = await new Promise<number | string>((resolve) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.on('error', (err) => resolve(err.message));
    // Liveness only: with nothing to replay, no event comes; without the headers, nothing would.
    setTimeout(() => {
      resolve('no headers within 10 s');
      req.destroy();
    }, 10_000).unref();
    req.end();
  });
  expect(status).toBe(200);
});
