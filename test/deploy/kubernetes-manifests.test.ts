/**
 * The kubernetes target's `manifests`: the repository's manifests rendered at the version and
 * applied by the real kubectl (client-side apply: GET, then POST or a strategic merge PATCH)
 * against the test API server (test/helpers/kube-server.ts). A good version rolls out, a bad
 * one fails at its progress deadline and the manifests are applied again at the recorded last
 * good version (not the previous revision), and the kubeconfig secret never reaches the output.
 */
import { jest } from '@jest/globals';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { runDeploy } from '../../src/deploy/deploy.js';
import { FileLedger } from '../../src/deploy/record/file-ledger.js';
import { TARGETS } from '../../src/deploy/targets/index.js';
import { renderManifests } from '../../src/deploy/targets/manifests.js';
import { startKubeServer, type KubeServer } from '../helpers/kube-server.js';
import { createProduct, type Product } from './fixture.js';

jest.setTimeout(120_000);

const TOKEN = 'kube-token-manifests-4d2e8a';
const MANIFEST = `# The api, as the repository describes it.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  labels: { app: api }
spec:
  replicas: 1
  progressDeadlineSeconds: 2
  selector:
    matchLabels: { app: api }
  template:
    metadata:
      labels: { app: api, version: "{version}" }
    spec:
      containers:
        - name: app
          image: example/api:{version}
`;

let p: Product;
let kube: KubeServer;
let record: FileLedger;

const deployConfig = (manifests: unknown) =>
  stringify({
    components: {
      api: {
        deploy: {
          target: 'kubernetes',
          resource: 'deployment/api',
          container: 'app',
          manifests,
          namespace: 'prod',
          kubeconfig: { env: 'KUBE_CONFIG' },
          timeout: 60,
        },
      },
    },
    environments: { production: { url: p.url } },
  });

// The target's temporary folders go to a TMPDIR of this file's own, so that another test file
// running in parallel cannot add to or take from what the leftover check sees.
const previousTmpdir = process.env.TMPDIR;
let privateTmp: string;

beforeAll(async () => {
  p = await createProduct();
  privateTmp = mkdtempSync(path.join(tmpdir(), 'kube-test-tmp-'));
  process.env.TMPDIR = privateTmp;
  p.repo.commit('manifests', { 'k8s/api.yaml': MANIFEST, 'k8s/README.md': 'not a manifest\n' });
  kube = await startKubeServer();
  kube.addNamespace('prod');
  record = new FileLedger(p.dir);
  p.writeConfig(deployConfig('k8s'));
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

const K = 'kubectl -n prod --kubeconfig <temp file>';

test('the manifests at a good version are applied (created, then patched) and roll out', async () => {
  const r = await deploy({ version: '1.0.0' });
  expect(r.error).toBeUndefined();
  expect(r.rt.outputs.status).toBe('success');
  expect(kube.image('prod', 'api', 'app')).toBe('example/api:1.0.0');
  expect(r.rt.text()).toContain('deployment.apps/api created');
  expect(r.rt.text()).toContain('deployment "api" successfully rolled out');
  // kubectl created it (it did not exist), leaving validation to the server (fieldValidation=Strict).
  expect(kube.requests).toContain(
    'POST /apis/apps/v1/namespaces/prod/deployments?fieldManager=kubectl-client-side-apply&fieldValidation=Strict&timeout=30s',
  );
  expect(JSON.parse(r.rt.outputs.plan).waves[0][0].commands.run).toBe(
    `render k8s at $SLIPWAY_VERSION into a private temp folder ({version} replaced); ${K} apply -f <it>; ` +
      `${K} rollout status deployment/api --timeout=60s`,
  );
  expect(kube.authorizations).toContain(`Bearer ${TOKEN}`);
  expect(r.everything).not.toContain(TOKEN);
  // The rendered copies and the kubeconfig are gone; the user's file is as committed.
  expect(kubeTemps()).toEqual([]);
  expect(readFileSync(path.join(p.dir, 'k8s/api.yaml'), 'utf8')).toBe(MANIFEST);

  const next = await deploy({ version: '1.1.0' });
  expect(next.rt.outputs.status).toBe('success');
  expect(next.rt.text()).toContain('deployment.apps/api configured');
  expect(kube.requests.filter((q) => q.startsWith('PATCH /apis/apps/v1/namespaces/prod/deployments/api'))).toHaveLength(
    1,
  );
  expect(kube.image('prod', 'api', 'app')).toBe('example/api:1.1.0');
  expect(kube.schemaErrors).toEqual([]);
});

test('a bad version fails in one line at its progress deadline and the manifests go back to the recorded version', async () => {
  kube.bad.add('example/api:1.2.0');
  const r = await deploy({ version: '1.2.0' });
  expect(r.rt.outputs.status).toBe('rolled-back');
  expect(r.error?.message.includes('\n')).toBe(false);
  expect(r.error?.message).toMatch(
    /failed at api 1\.2\.0: deployment\/api exceeded its progress deadline with the manifests at 1\.2\.0 \(kubectl rollout status\); rolled back/,
  );
  expect(kube.image('prod', 'api', 'app')).toBe('example/api:1.1.0');
  expect(r.everything).not.toContain(TOKEN);
  expect(kube.schemaErrors).toEqual([]);
});

test('after two bad deploys in a row the manifests are applied at the last good version, not the previous revision', async () => {
  kube.bad.add('example/api:1.3.0');
  kube.bad.add('example/api:1.4.0');
  const first = await deploy({ version: '1.3.0', 'auto-rollback': 'false' });
  expect(first.rt.outputs.status).toBe('failed');
  expect(kube.image('prod', 'api', 'app')).toBe('example/api:1.3.0');

  const second = await deploy({ version: '1.4.0' });
  expect(second.rt.outputs.status).toBe('rolled-back');
  expect(second.error?.message).toMatch(/deployment\/api exceeded its progress deadline with the manifests at 1\.4\.0/);
  // `kubectl rollout undo` would have gone to the revision before 1.4.0: the bad 1.3.0.
  expect(
    kube
      .revisions('prod', 'api')
      .map((r) => r.image)
      .slice(-3),
  ).toEqual(['example/api:1.3.0', 'example/api:1.4.0', 'example/api:1.1.0']);
  expect(kube.image('prod', 'api', 'app')).toBe('example/api:1.1.0');
  expect(second.rt.text()).toContain('kubectl apply -f k8s at 1.1.0; waiting for the rollout of deployment/api');
  expect(kube.requests.filter((r) => r.includes('/replicasets'))).toEqual([]);

  const dry = await deploy({ version: '1.5.0', 'dry-run': 'true' });
  expect(dry.rt.text()).toContain('api on production: running 1.1.0 (status command).');
  expect(dry.rt.text()).toContain(
    'api rollback: the same manifests rendered at the recorded last good version, applied, and their rollout waited for (never kubectl rollout undo)',
  );
  expect(dry.everything).not.toContain(TOKEN);
  expect(kube.schemaErrors).toEqual([]);
});

test('a manifest path that does not exist fails in one line naming the key and the file', async () => {
  p.writeConfig(deployConfig(['k8s/api.yaml', 'k8s/missing.yaml']));
  try {
    const applies = kube.requests.length;
    const r = await deploy({ version: '1.6.0' });
    expect(r.rt.outputs.status).not.toBe('success');
    expect(r.error?.message.includes('\n')).toBe(false);
    expect(r.error?.message).toContain(
      'failed at api 1.6.0: manifests: k8s/missing.yaml does not exist (expected a file or folder of the repository)',
    );
    // Nothing reached the cluster.
    expect(kube.requests.slice(applies).filter((q) => !q.startsWith('GET'))).toEqual([]);
    expect(kube.image('prod', 'api', 'app')).toBe('example/api:1.1.0');
    expect(r.everything).not.toContain(TOKEN);
  } finally {
    p.writeConfig(deployConfig('k8s'));
  }
});

test('a manifest kubectl refuses fails in one line, without kubectl dumping the objects into the log', async () => {
  const refused = MANIFEST.replace('- name: app', '- nam: app').replace(
    'labels: { app: api }\nspec',
    'labels: { app: api, note: do-not-log-me }\nspec',
  );
  p.repo.commit('a broken manifest', { 'k8s-broken/api.yaml': refused });
  p.writeConfig(deployConfig('k8s-broken'));
  try {
    const r = await deploy({ version: '1.7.0' });
    expect(r.rt.outputs.status).not.toBe('success');
    expect(r.error?.message.includes('\n')).toBe(false);
    expect(r.error?.message).toMatch(
      /failed at api 1\.7\.0: kubectl apply of manifests failed: .*does not contain declared merge key: name/,
    );
    // kubectl printed the original, modified and current objects on stderr; none of it is logged.
    expect(r.rt.text()).not.toContain('do-not-log-me');
    expect(r.everything).not.toContain('/tmp/slipway-kube-');
    expect(kube.image('prod', 'api', 'app')).toBe('example/api:1.1.0');

    // A new object the server's schema refuses: its answer, naming the repository's file.
    const worker = MANIFEST.replaceAll(/\bapi\b(?!Version)/g, 'worker').replace(/ {2}selector:\n.*\n/, '');
    p.repo.commit('a worker without a selector', { 'k8s-invalid/worker.yaml': worker });
    p.writeConfig(deployConfig('k8s-invalid'));
    const invalid = await deploy({ version: '1.8.0' });
    expect(invalid.error?.message).toMatch(
      /kubectl apply of manifests failed: The Deployment "worker" is invalid: spec\.selector: Required value; /,
    );
  } finally {
    p.writeConfig(deployConfig('k8s'));
  }
});

describe('rendering', () => {
  let dir: string;
  let out: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'manifests-repo-'));
    out = mkdtempSync(path.join(tmpdir(), 'manifests-out-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  };
  const error = (entries: string[]) =>
    renderManifests(dir, entries, '2.0.0', out).then(
      () => 'ok',
      (err: Error) => `${err.name}: ${err.message}`,
    );

  test('files and folders are rendered in order, private, every {version} replaced', async () => {
    write('deploy/b.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: b }\ndata: { v: "{version}" }\n');
    write('deploy/a.yml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n');
    write('deploy/notes.txt', 'ignored');
    write('app.manifest', '---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n---\n');
    const result = await renderManifests(dir, ['deploy', 'app.manifest'], '2.0.0', out);
    if (result.kind !== 'files') throw new Error(`rendered as ${result.kind}`);
    const rendered = result.files;
    expect(rendered.map((r) => [path.basename(r.file), r.shown])).toEqual([
      ['000-a.yml', 'deploy/a.yml'],
      ['001-b.yaml', 'deploy/b.yaml'],
      ['002-app.manifest.yaml', 'app.manifest'],
    ]);
    expect(readFileSync(rendered[1].file, 'utf8')).toContain('data: { v: "2.0.0" }');
    expect(readdirSync(out).map((f) => path.join(out, f))).toEqual(rendered.map((r) => r.file));
    for (const r of rendered) expect((await import('node:fs')).statSync(r.file).mode & 0o777).toBe(0o600);
  });

  test('bad manifests are one line naming the key, the file and what was expected', async () => {
    write('k8s/api.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n');
    expect(await error(['k8s/api.yaml'])).toBe(
      'TargetError: manifests: no "{version}" in k8s/api.yaml (expected it where the version goes, for example "image: ghcr.io/acme/api:{version}")',
    );
    write('k8s/bad.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x\ndata: "{version}"\n');
    expect(await error(['k8s/bad.yaml'])).toMatch(
      /^TargetError: manifests: k8s\/bad\.yaml:\d+:\d+: invalid YAML: [^\n]+$/,
    );
    write('k8s/aliases.yaml', `apiVersion: v1\nkind: ConfigMap\nx: &x ["{version}"]\ny: [${'*x, '.repeat(101)}*x]\n`);
    expect(await error(['k8s/aliases.yaml'])).toBe(
      'TargetError: manifests: k8s/aliases.yaml:1:1: invalid YAML: Excessive alias count indicates a resource exhaustion attack',
    );
    write('k8s/list.yaml', '- image: "{version}"\n');
    expect(await error(['k8s/list.yaml'])).toBe(
      'TargetError: manifests: k8s/list.yaml:1:1: expected a Kubernetes object with "apiVersion" and "kind"',
    );
    expect(await error(['k8s/none.yaml'])).toBe(
      'TargetError: manifests: k8s/none.yaml does not exist (expected a file or folder of the repository)',
    );
    write('empty/README.md', 'x');
    expect(await error(['empty'])).toBe('TargetError: manifests: empty has no .yaml, .yml or .json file');
    write('kust/kustomization.yaml', 'resources: [a.yaml]\n');
    expect(await error(['kust'])).toBe(
      'TargetError: manifests: kust is a kustomize folder, whose version is set as the tag of "image", which is missing (expected "image" with the version in its tag, for example "ghcr.io/acme/api:{version}")',
    );
    expect(await error(['kust', 'k8s/api.yaml'])).toMatch(
      /^TargetError: manifests: kust, k8s\/api\.yaml: a kustomize folder must be the only entry/,
    );
    const kustomize = (template: string) =>
      renderManifests(dir, ['kust'], '2.0.0', out, template).then(
        (r) =>
          r.kind === 'kustomize'
            ? `${r.image} ${readFileSync(path.join(r.overlay, 'kustomization.yaml'), 'utf8')}`
            : r.kind,
        (err: Error) => err.message,
      );
    expect(await kustomize('example/api@{version}')).toBe(
      'image: "example/api@{version}" cannot be set by kustomize (expected "image" with the version in its tag, for example "ghcr.io/acme/api:{version}")',
    );
    expect(await kustomize('registry:5000/{version}/api:latest')).toMatch(/^image: .* cannot be set by kustomize/);
    const overlay = await kustomize('registry:5000/api:v{version}');
    expect(overlay).toContain('registry:5000/api:v2.0.0 ');
    expect(overlay).toContain('images: [{ name: "registry:5000/api", newTag: "v2.0.0" }]');
    expect(overlay).toMatch(/resources: \["(\.\.\/)+.*kust"\]/);
  });

  test('a path that resolves outside the workspace is refused before it is read', async () => {
    const outside = mkdtempSync(path.join(tmpdir(), 'manifests-outside-'));
    try {
      writeFileSync(path.join(outside, 'x.yaml'), 'apiVersion: v1\nkind: Secret\nmetadata: { name: "{version}" }\n');
      symlinkSync(path.join(outside, 'x.yaml'), path.join(dir, 'link.yaml'));
      expect(await error(['link.yaml'])).toMatch(
        /^TargetError: manifests: link\.yaml resolves to .*manifests-outside-.*x\.yaml, outside the workspace .*; manifests must be files of the repository$/,
      );
      expect(readdirSync(out)).toEqual([]);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});

test('the manifests key is checked when the policy is read', async () => {
  const { kubernetesTarget } = await import('../../src/deploy/targets/kubernetes.js');
  const build = (deploy: Record<string, unknown>) => {
    try {
      kubernetesTarget({
        component: {} as never,
        deploy: { target: 'kubernetes', resource: 'deployment/api', ...deploy },
        errorAt: (key, message) => new Error(`${key}: ${message}`),
      });
      return 'ok';
    } catch (err) {
      return (err as Error).message;
    }
  };
  expect(build({ manifests: 'k8s' })).toBe('ok');
  expect(build({ manifests: ['k8s/a.yaml', 'k8s/b.yaml'], image: 'example/api:{version}' })).toBe('ok');
  expect(build({ manifests: [] })).toMatch(/^manifests: expected a path or a list of paths of the repository/);
  expect(build({ manifests: { file: 'x' } })).toMatch(/^manifests: expected a path or a list of paths/);
  expect(build({ manifests: '../elsewhere' })).toMatch(/^manifests: "\.\.\/elsewhere" is outside the repository/);
  expect(build({ manifests: '/etc/k8s' })).toMatch(/^manifests: "\/etc\/k8s" is outside the repository/);
  expect(build({ manifests: 'k8s', image: 'example/api:latest' })).toMatch(/^image: expected "\{version\}"/);
});

describe('a kustomize folder', () => {
  const WEB = MANIFEST.replaceAll(/\bapi\b/g, 'web').replace('example/web:{version}', 'example/web:latest');
  const config = (image: string) =>
    stringify({
      components: {
        web: {
          deploy: {
            target: 'kubernetes',
            resource: 'deployment/web',
            container: 'app',
            manifests: 'kustomize/overlays/prod',
            image,
            namespace: 'prod',
            kubeconfig: { env: 'KUBE_CONFIG' },
            timeout: 60,
          },
        },
      },
      environments: { production: { url: p.url } },
    });
  beforeAll(() => {
    p.repo.commit('kustomize', {
      'kustomize/base/kustomization.yaml': 'resources: [web.yaml]\n',
      'kustomize/base/web.yaml': WEB,
      'kustomize/overlays/prod/kustomization.yaml': 'resources: [../../base]\ncommonAnnotations: { tier: web }\n',
    });
  });
  afterAll(() => p.writeConfig(deployConfig('k8s')));

  test('kustomize sets the image tag to the version; a bad one goes back to the recorded version', async () => {
    p.writeConfig(config('example/web:{version}'));
    const good = await deploy({ version: '2.0.0' });
    expect(good.error).toBeUndefined();
    expect(good.rt.outputs.status).toBe('success');
    expect(good.rt.text()).toContain('deployment.apps/web created');
    expect(kube.image('prod', 'web', 'app')).toBe('example/web:2.0.0');
    expect(JSON.parse(good.rt.outputs.plan).waves[0][0].commands.run).toContain(
      'render kustomize/overlays/prod at $SLIPWAY_VERSION into a private temp folder ({version} replaced, or for a kustomize folder the tag of example/web:{version} set by kustomize)',
    );

    kube.bad.add('example/web:2.1.0');
    const bad = await deploy({ version: '2.1.0' });
    expect(bad.rt.outputs.status).toBe('rolled-back');
    expect(bad.error?.message).toMatch(
      /failed at web 2\.1\.0: deployment\/web exceeded its progress deadline with example\/web:2\.1\.0 \(kubectl rollout status\); rolled back/,
    );
    expect(kube.image('prod', 'web', 'app')).toBe('example/web:2.0.0');
    expect(bad.everything).not.toContain(TOKEN);
    expect(kubeTemps()).toEqual([]);
    expect(kube.schemaErrors).toEqual([]);
  });

  test('an image the kustomize build does not have is one line, before anything is applied', async () => {
    p.writeConfig(config('example/other:{version}'));
    const before = kube.requests.length;
    const r = await deploy({ version: '2.2.0' });
    expect(r.error?.message.includes('\n')).toBe(false);
    expect(r.error?.message).toContain(
      'failed at web 2.2.0: manifests: the kustomize build of kustomize/overlays/prod has no image example/other:2.2.0 (expected a container whose image is the one "image" names)',
    );
    expect(kube.requests.slice(before).filter((q) => !q.startsWith('GET'))).toEqual([]);
    expect(kube.image('prod', 'web', 'app')).toBe('example/web:2.0.0');
  });
});
