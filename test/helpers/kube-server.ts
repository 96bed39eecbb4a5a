/**
 * A Kubernetes API server for the real `kubectl`, with what `set image`, `rollout status` and
 * `get -o json` use: discovery (/api, /apis, the group resource lists), deployments GET, PATCH
 * (strategic merge patch), list and watch, and replicasets list. It simulates the deployment
 * controller: a new pod template gets a new revision (a ReplicaSet); an image the test marks
 * good becomes available, a bad one exceeds progressDeadlineSeconds (Progressing=False,
 * ProgressDeadlineExceeded). Every object it returns is validated against the Kubernetes
 * OpenAPI schema (kubernetes-models); failures go to `schemaErrors`, which tests assert empty.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { APIGroupList } from '@kubernetes-models/apimachinery/apis/meta/v1/APIGroupList';
import { APIResourceList } from '@kubernetes-models/apimachinery/apis/meta/v1/APIResourceList';
import { APIVersions } from '@kubernetes-models/apimachinery/apis/meta/v1/APIVersions';
import { Status } from '@kubernetes-models/apimachinery/apis/meta/v1/Status';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { DeploymentList } from 'kubernetes-models/apps/v1/DeploymentList';
import { ReplicaSet } from 'kubernetes-models/apps/v1/ReplicaSet';
import { ReplicaSetList } from 'kubernetes-models/apps/v1/ReplicaSetList';

type Json = Record<string, unknown>;
type Obj = Json & { metadata: Json & { name: string; namespace: string; resourceVersion: string } };

/** One ReplicaSet of a deployment: its revision and image. */
interface Revision {
  revision: number;
  image: string;
}

/** The running server. */
export interface KubeServer {
  url: string;
  /** Images that never become available. */
  bad: Set<string>;
  /** Every request as "METHOD path?query". */
  requests: string[];
  /** The Authorization headers received. */
  authorizations: string[];
  /** Objects returned that the Kubernetes schema refused, as "kind: message". */
  schemaErrors: string[];
  /** Create a deployment with one container. */
  addDeployment(d: {
    namespace: string;
    name: string;
    container: string;
    image: string;
    progressDeadlineSeconds: number;
  }): void;
  /** The image of a deployment's container. */
  image(namespace: string, name: string, container: string): string;
  /** A deployment's revisions, oldest first. */
  revisions(namespace: string, name: string): Revision[];
  /** A kubeconfig for this server with a bearer token. */
  kubeconfig(token: string, namespace?: string): string;
  close(): Promise<void>;
}

let rvCounter = 100;
const nextRv = () => String(++rvCounter);
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** Strategic merge patch, for what kubectl sends: maps merge, `containers` merge by name, null deletes. */
function strategicMerge(target: Json, patch: Json): Json {
  const out: Json = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    if (value === null) delete out[key];
    else if (Array.isArray(value) && key === 'containers' && Array.isArray(out[key])) {
      const list = (out[key] as Json[]).map((c) => ({ ...c }));
      for (const item of value as Json[]) {
        const i = list.findIndex((c) => c.name === item.name);
        if (i >= 0) list[i] = strategicMerge(list[i], item);
        else list.push(item);
      }
      out[key] = list;
    } else if (typeof value === 'object' && !Array.isArray(value) && typeof out[key] === 'object' && out[key] !== null)
      out[key] = strategicMerge(out[key] as Json, value as Json);
    else out[key] = value;
  }
  return out;
}

interface State {
  deployment: Obj;
  replicaSets: Obj[];
  timer?: NodeJS.Timeout;
}

/** A self-signed certificate for 127.0.0.1: kubectl sends a bearer token only over TLS. */
function certificate(): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'kube-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(path.join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Start the server on 127.0.0.1 (HTTPS). */
export async function startKubeServer(): Promise<KubeServer> {
  const tls = certificate();
  const bad = new Set<string>();
  const requests: string[] = [];
  const authorizations: string[] = [];
  const schemaErrors: string[] = [];
  const states = new Map<string, State>();
  const watchers = new Set<{ ns: string; name: string; res: http.ServerResponse }>();

  const check = <T>(kind: string, Model: new (data: never) => { validate(): void }, data: T): T => {
    try {
      new Model(data as never).validate();
    } catch (err) {
      schemaErrors.push(`${kind}: ${(err as Error).message}`);
    }
    return data;
  };
  const template = (d: Obj) => (d.spec as Json).template as Json & { spec: { containers: Json[] } };
  const imageOf = (t: Json & { spec: { containers: Json[] } }) => t.spec.containers.map((c) => c.image).join(',');

  const notify = (s: State) => {
    const d = s.deployment;
    for (const w of watchers)
      if (w.ns === d.metadata.namespace && w.name === d.metadata.name)
        w.res.write(JSON.stringify({ type: 'MODIFIED', object: check('Deployment', Deployment, d) }) + '\n');
  };
  const setStatus = (s: State, status: Json) => {
    s.deployment.status = status;
    s.deployment.metadata.resourceVersion = nextRv();
    notify(s);
  };
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastUpdateTime: now(),
    lastTransitionTime: now(),
  });

  /** The controller: a new template gets a revision; it becomes available, or exceeds its deadline. */
  const reconcile = (s: State) => {
    const d = s.deployment;
    const spec = d.spec as Json & { replicas: number; progressDeadlineSeconds: number };
    const generation = d.metadata.generation as number;
    const image = imageOf(template(d));
    const revision =
      Math.max(
        0,
        ...s.replicaSets.map((r) => Number((r.metadata.annotations as Json)['deployment.kubernetes.io/revision'])),
      ) + 1;
    const rsName = `${d.metadata.name}-${revision}`;
    const existing = s.replicaSets.find((r) => imageOf((r.spec as Json).template as never) === image);
    if (existing) {
      (existing.metadata.annotations as Json)['deployment.kubernetes.io/revision'] = String(revision);
      existing.metadata.resourceVersion = nextRv();
    } else
      s.replicaSets.push({
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: rsName,
          namespace: d.metadata.namespace,
          uid: `rs-${d.metadata.name}-${revision}`,
          resourceVersion: nextRv(),
          creationTimestamp: now(),
          labels: { app: d.metadata.name, 'pod-template-hash': String(revision) },
          annotations: { 'deployment.kubernetes.io/revision': String(revision) },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              name: d.metadata.name,
              uid: d.metadata.uid as string,
              controller: true,
            },
          ],
        },
        spec: {
          replicas: spec.replicas,
          selector: { matchLabels: { app: d.metadata.name, 'pod-template-hash': String(revision) } },
          template: structuredClone(template(d)),
        },
        status: { replicas: spec.replicas, observedGeneration: 1 },
      });
    (d.metadata.annotations as Json)['deployment.kubernetes.io/revision'] = String(revision);
    const available = (d.status as Json | undefined)?.availableReplicas ?? 0;
    setStatus(s, {
      observedGeneration: generation,
      replicas: spec.replicas + 1,
      updatedReplicas: 0,
      availableReplicas: available,
      unavailableReplicas: 1,
      conditions: [
        condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'),
        condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`),
      ],
    });
    clearTimeout(s.timer);
    s.timer = bad.has(image)
      ? setTimeout(
          () =>
            setStatus(s, {
              ...(d.status as Json),
              updatedReplicas: 1,
              conditions: [
                condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'),
                condition(
                  'Progressing',
                  'False',
                  'ProgressDeadlineExceeded',
                  `ReplicaSet "${rsName}" has timed out progressing.`,
                ),
              ],
            }),
          spec.progressDeadlineSeconds * 1000,
        )
      : setTimeout(
          () =>
            setStatus(s, {
              observedGeneration: generation,
              replicas: spec.replicas,
              updatedReplicas: spec.replicas,
              readyReplicas: spec.replicas,
              availableReplicas: spec.replicas,
              conditions: [
                condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'),
                condition(
                  'Progressing',
                  'True',
                  'NewReplicaSetAvailable',
                  `ReplicaSet "${rsName}" has successfully progressed.`,
                ),
              ],
            }),
          300,
        );
  };

  const send = (res: http.ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const notFound = (res: http.ServerResponse, what: string) =>
    send(
      res,
      404,
      check('Status', Status, {
        apiVersion: 'v1',
        kind: 'Status',
        status: 'Failure',
        message: `${what} not found`,
        reason: 'NotFound',
        code: 404,
      }),
    );

  const discovery = (port: number, path: string): unknown => {
    if (path === '/version')
      return { major: '1', minor: '32', gitVersion: 'v1.32.0-slipway-test', platform: 'linux/amd64' };
    if (path === '/api')
      return check('APIVersions', APIVersions, {
        kind: 'APIVersions',
        apiVersion: 'v1',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }],
      });
    if (path === '/apis')
      return check('APIGroupList', APIGroupList, {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [
          {
            name: 'apps',
            versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
            preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
          },
        ],
      });
    if (path === '/api/v1')
      return check('APIResourceList', APIResourceList, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: 'v1',
        resources: [
          {
            name: 'namespaces',
            singularName: 'namespace',
            namespaced: false,
            kind: 'Namespace',
            verbs: ['get', 'list'],
            shortNames: ['ns'],
          },
        ],
      });
    if (path === '/apis/apps/v1') {
      const verbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
      return check('APIResourceList', APIResourceList, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: 'apps/v1',
        resources: [
          {
            name: 'deployments',
            singularName: 'deployment',
            namespaced: true,
            kind: 'Deployment',
            verbs,
            shortNames: ['deploy'],
            categories: ['all'],
          },
          {
            name: 'deployments/status',
            singularName: '',
            namespaced: true,
            kind: 'Deployment',
            verbs: ['get', 'patch', 'update'],
          },
          {
            name: 'replicasets',
            singularName: 'replicaset',
            namespaced: true,
            kind: 'ReplicaSet',
            verbs,
            shortNames: ['rs'],
            categories: ['all'],
          },
        ],
      });
    }
    return undefined;
  };

  const server = https.createServer(tls, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (req.headers.authorization) authorizations.push(req.headers.authorization);
    const port = (server.address() as { port: number }).port;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const found = req.method === 'GET' ? discovery(port, url.pathname) : undefined;
      if (found) return send(res, 200, found);
      const m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/(deployments|replicasets)(?:\/([^/]+))?$/.exec(url.pathname);
      if (!m) return notFound(res, url.pathname);
      const [, ns, kind, name] = m;
      if (kind === 'replicasets') {
        if (req.method !== 'GET' || name) return notFound(res, url.pathname);
        const items = [...states.values()]
          .filter((s) => s.deployment.metadata.namespace === ns)
          .flatMap((s) => s.replicaSets);
        return send(
          res,
          200,
          check('ReplicaSetList', ReplicaSetList, {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSetList',
            metadata: { resourceVersion: String(rvCounter) },
            items: items.map((rs) => check('ReplicaSet', ReplicaSet, rs)),
          }),
        );
      }
      if (!name) {
        // A list or watch, selected by metadata.name as kubectl's rollout status asks.
        const selected = /^metadata\.name=(.+)$/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1];
        const matching = [...states.values()]
          .map((s) => s.deployment)
          .filter((d) => d.metadata.namespace === ns && (!selected || d.metadata.name === selected));
        if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
          res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
          const since = Number(url.searchParams.get('resourceVersion') ?? '0');
          for (const d of matching)
            if (Number(d.metadata.resourceVersion) > since)
              res.write(JSON.stringify({ type: 'MODIFIED', object: check('Deployment', Deployment, d) }) + '\n');
          const watcher = { ns, name: selected ?? '', res };
          watchers.add(watcher);
          const seconds = Number(url.searchParams.get('timeoutSeconds') ?? '0');
          const timer = seconds > 0 ? setTimeout(() => res.end(), seconds * 1000) : undefined;
          res.on('close', () => {
            clearTimeout(timer);
            watchers.delete(watcher);
          });
          return;
        }
        return send(
          res,
          200,
          check('DeploymentList', DeploymentList, {
            apiVersion: 'apps/v1',
            kind: 'DeploymentList',
            metadata: { resourceVersion: String(rvCounter) },
            items: matching.map((d) => check('Deployment', Deployment, d)),
          }),
        );
      }
      const s = states.get(`${ns}/${name}`);
      if (!s) return notFound(res, `deployments.apps "${name}"`);
      if (req.method === 'GET') return send(res, 200, check('Deployment', Deployment, s.deployment));
      if (req.method === 'PATCH') {
        if (!String(req.headers['content-type']).startsWith('application/strategic-merge-patch+json'))
          return send(res, 415, {
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            code: 415,
            reason: 'UnsupportedMediaType',
          });
        const before = JSON.stringify(template(s.deployment));
        const patched = strategicMerge(s.deployment, JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json) as Obj;
        s.deployment = { ...patched, metadata: s.deployment.metadata, status: s.deployment.status };
        const changed = JSON.stringify(template(s.deployment)) !== before;
        if (changed) {
          s.deployment.metadata.generation = (s.deployment.metadata.generation as number) + 1;
          s.deployment.metadata.resourceVersion = nextRv();
        }
        const body = check('Deployment', Deployment, structuredClone(s.deployment));
        send(res, 200, body);
        if (changed) setTimeout(() => reconcile(s), 20);
        return;
      }
      return notFound(res, `${req.method} ${url.pathname}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;

  return {
    url,
    bad,
    requests,
    authorizations,
    schemaErrors,
    addDeployment({ namespace, name, container, image, progressDeadlineSeconds }) {
      const labels = { app: name };
      const s: State = {
        deployment: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: {
            name,
            namespace,
            uid: `uid-${namespace}-${name}`,
            resourceVersion: nextRv(),
            generation: 1,
            creationTimestamp: now(),
            labels,
            annotations: {},
          },
          spec: {
            replicas: 1,
            selector: { matchLabels: labels },
            template: { metadata: { labels }, spec: { containers: [{ name: container, image }] } },
            strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
            revisionHistoryLimit: 10,
            progressDeadlineSeconds,
          },
        },
        replicaSets: [],
      };
      states.set(`${namespace}/${name}`, s);
      reconcile(s);
    },
    image(namespace, name, container) {
      const s = states.get(`${namespace}/${name}`)!;
      return template(s.deployment).spec.containers.find((c) => c.name === container)!.image as string;
    },
    revisions(namespace, name) {
      return states
        .get(`${namespace}/${name}`)!
        .replicaSets.map((rs) => ({
          revision: Number((rs.metadata.annotations as Json)['deployment.kubernetes.io/revision']),
          image: imageOf((rs.spec as Json).template as never),
        }))
        .sort((a, b) => a.revision - b.revision);
    },
    kubeconfig(token, namespace = 'default') {
      return [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: test`,
        `  cluster: { server: "${url}", certificate-authority-data: ${Buffer.from(tls.cert).toString('base64')} }`,
        'users:',
        `- name: deployer`,
        `  user: { token: "${token}" }`,
        'contexts:',
        `- name: test`,
        `  context: { cluster: test, user: deployer, namespace: ${namespace} }`,
        'current-context: test',
        '',
      ].join('\n');
    },
    async close() {
      for (const s of states.values()) clearTimeout(s.timer);
      for (const w of watchers) w.res.end();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
