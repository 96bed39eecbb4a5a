/**
 * A Kubernetes API server for the real `kubectl`, with what `set image`, `rollout status` and
 * `get -o json` use: discovery (/api, /apis, the group resource lists), deployments GET, PATCH
 * (strategic merge patch), list and watch, and replicasets list. It simulates the deployment
 * controller: a new pod template gets a new revision (a ReplicaSet); an image the test marks
 * good becomes available, a bad one exceeds progressDeadlineSeconds (Progressing=False,
 * ProgressDeadlineExceeded). Every object it returns is validated against the Kubernetes
 * OpenAPI schema (kubernetes-models); failures go to `schemaErrors`, which tests assert empty.
 */
import { createHash } from 'node:crypto';
import type http from 'node:http';
import https from 'node:https';
import { APIGroupList } from '@kubernetes-models/apimachinery/apis/meta/v1/APIGroupList';
import { APIResourceList } from '@kubernetes-models/apimachinery/apis/meta/v1/APIResourceList';
import { APIVersions } from '@kubernetes-models/apimachinery/apis/meta/v1/APIVersions';
import { Status } from '@kubernetes-models/apimachinery/apis/meta/v1/Status';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { DeploymentList } from 'kubernetes-models/apps/v1/DeploymentList';
import { ReplicaSet } from 'kubernetes-models/apps/v1/ReplicaSet';
import { ReplicaSetList } from 'kubernetes-models/apps/v1/ReplicaSetList';
import { selfSignedCertificate } from './tls.js';

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
  /** Create a namespace (`default` exists; adding a deployment creates its own). */
  addNamespace(name: string): void;
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

/**
 * The OpenAPI v3 document of apps/v1 as far as kubectl reads it: `kubectl apply` looks up the
 * Deployment's PATCH operation (its group-version-kind and request media types) and whether the
 * server takes `fieldValidation`, which every API server since 1.27 does, so kubectl leaves
 * validation to the server instead of downloading a schema of its own. The schemas carry no
 * field detail: kubectl then builds its strategic merge patch from its compiled-in Deployment
 * type, the same merge keys a real cluster's document describes.
 */
const DEPLOYMENT_GVK = [{ group: 'apps', kind: 'Deployment', version: 'v1' }];
const queryParam = (name: string, type = 'string') => ({ name, in: 'query', schema: { type, uniqueItems: true } });
const pathParam = (name: string) => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string', uniqueItems: true },
});
const ref = (name: string) => ({ schema: { $ref: `#/components/schemas/${name}` } });
const DEPLOYMENT = 'io.k8s.api.apps.v1.Deployment';
const operation = (operationId: string, action: string, extra: Json = {}) => ({
  operationId,
  tags: ['apps_v1'],
  'x-kubernetes-action': action,
  'x-kubernetes-group-version-kind': DEPLOYMENT_GVK[0],
  responses: { '200': { description: 'OK', content: { 'application/json': ref(DEPLOYMENT) } } },
  ...extra,
});
const writeParams = [queryParam('dryRun'), queryParam('fieldManager'), queryParam('fieldValidation')];
const APPS_V1_OPENAPI = {
  openapi: '3.0.0',
  info: { title: 'Kubernetes', version: 'v1.32.0' },
  paths: {
    '/apis/apps/v1/namespaces/{namespace}/deployments': {
      get: operation('listAppsV1NamespacedDeployment', 'list'),
      post: operation('createAppsV1NamespacedDeployment', 'post', {
        parameters: writeParams,
        requestBody: { required: true, content: { '*/*': ref(DEPLOYMENT) } },
      }),
      parameters: [pathParam('namespace'), queryParam('pretty')],
    },
    '/apis/apps/v1/namespaces/{namespace}/deployments/{name}': {
      get: operation('readAppsV1NamespacedDeployment', 'get'),
      patch: operation('patchAppsV1NamespacedDeployment', 'patch', {
        parameters: [...writeParams, queryParam('force', 'boolean')],
        requestBody: {
          required: true,
          content: Object.fromEntries(
            [
              'application/apply-patch+yaml',
              'application/json-patch+json',
              'application/merge-patch+json',
              'application/strategic-merge-patch+json',
            ].map((t) => [t, ref('io.k8s.apimachinery.pkg.apis.meta.v1.Patch')]),
          ),
        },
      }),
      parameters: [pathParam('name'), pathParam('namespace'), queryParam('pretty')],
    },
  },
  components: {
    schemas: {
      [DEPLOYMENT]: {
        description: 'Deployment enables declarative updates for Pods and ReplicaSets.',
        type: 'object',
        properties: {
          apiVersion: { type: 'string' },
          kind: { type: 'string' },
          metadata: { allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }] },
          spec: { allOf: [{ $ref: '#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec' }] },
          status: { type: 'object' },
        },
        'x-kubernetes-group-version-kind': DEPLOYMENT_GVK,
      },
      'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
        type: 'object',
        properties: {
          name: { type: 'string' },
          namespace: { type: 'string' },
          labels: { type: 'object', additionalProperties: { type: 'string', default: '' } },
          annotations: { type: 'object', additionalProperties: { type: 'string', default: '' } },
        },
      },
      'io.k8s.api.apps.v1.DeploymentSpec': {
        type: 'object',
        required: ['selector', 'template'],
        properties: {
          replicas: { type: 'integer', format: 'int32' },
          progressDeadlineSeconds: { type: 'integer', format: 'int32' },
          selector: {
            type: 'object',
            properties: { matchLabels: { type: 'object', additionalProperties: { type: 'string', default: '' } } },
          },
          template: {
            type: 'object',
            properties: {
              metadata: { allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }] },
              spec: {
                type: 'object',
                properties: {
                  containers: {
                    type: 'array',
                    items: { allOf: [{ $ref: '#/components/schemas/io.k8s.api.core.v1.Container' }] },
                    'x-kubernetes-list-map-keys': ['name'],
                    'x-kubernetes-list-type': 'map',
                    'x-kubernetes-patch-merge-key': 'name',
                    'x-kubernetes-patch-strategy': 'merge',
                  },
                },
              },
            },
          },
        },
      },
      'io.k8s.api.core.v1.Container': {
        type: 'object',
        required: ['name'],
        properties: { name: { type: 'string' }, image: { type: 'string' } },
      },
      'io.k8s.apimachinery.pkg.apis.meta.v1.Patch': {
        description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.',
        type: 'object',
      },
    },
  },
};
const OPENAPI_HASH = createHash('sha512').update(JSON.stringify(APPS_V1_OPENAPI)).digest('hex').toUpperCase();

interface State {
  deployment: Obj;
  replicaSets: Obj[];
  timer?: NodeJS.Timeout;
}

/** Start the server on 127.0.0.1 (HTTPS). */
export async function startKubeServer(): Promise<KubeServer> {
  // kubectl sends a bearer token only over TLS.
  const tls = selfSignedCertificate();
  const bad = new Set<string>();
  const requests: string[] = [];
  const authorizations: string[] = [];
  const schemaErrors: string[] = [];
  const states = new Map<string, State>();
  const namespaces = new Set(['default']);
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
    if (path === '/openapi/v3')
      return { paths: { 'apis/apps/v1': { serverRelativeURL: `/openapi/v3/apis/apps/v1?hash=${OPENAPI_HASH}` } } };
    if (path === '/openapi/v3/apis/apps/v1') return APPS_V1_OPENAPI;
    return undefined;
  };

  /** Reject what the schema refuses, as the API server's validation does: a 422 Status, else null. */
  const invalid = (d: Json): Json | null => {
    try {
      new Deployment(d as never).validate();
      return null;
    } catch (err) {
      const name = ((d.metadata as Json | undefined)?.name as string | undefined) ?? '';
      // As the API server words it: one cause per field, "spec.selector: Required value".
      const errors = (err as { errors?: { instancePath: string; keyword: string; params: Json; message?: string }[] })
        .errors ?? [{ instancePath: '', keyword: '', params: {}, message: (err as Error).message }];
      const causes = errors.map((e) => {
        const parent = e.instancePath.split('/').filter(Boolean);
        const field = [...parent, ...(e.keyword === 'required' ? [String(e.params.missingProperty)] : [])]
          .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : `${i ? '.' : ''}${part}`))
          .join('');
        return e.keyword === 'required'
          ? { reason: 'FieldValueRequired', message: 'Required value', field }
          : { reason: 'FieldValueInvalid', message: `Invalid value: ${e.message ?? ''}`, field };
      });
      return check('Status', Status, {
        apiVersion: 'v1',
        kind: 'Status',
        status: 'Failure',
        message: `Deployment.apps "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
        reason: 'Invalid',
        details: { name, group: 'apps', kind: 'Deployment', causes },
        code: 422,
      });
    }
  };

  /** Store a new deployment with the API server's defaults, and start its first rollout. */
  const admit = (d: Json & { metadata: Json; spec: Json }): Obj => {
    const spec = d.spec;
    const deployment = {
      ...d,
      metadata: {
        ...d.metadata,
        uid: `uid-${String(d.metadata.namespace)}-${String(d.metadata.name)}`,
        resourceVersion: nextRv(),
        generation: 1,
        creationTimestamp: now(),
        annotations: { ...((d.metadata.annotations as Json | undefined) ?? {}) },
      },
      spec: {
        replicas: 1,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        ...spec,
      },
    } as unknown as Obj;
    const s: State = { deployment, replicaSets: [] };
    states.set(`${deployment.metadata.namespace}/${deployment.metadata.name}`, s);
    reconcile(s);
    return deployment;
  };

  /** POST of a new deployment (kubectl apply of an object that does not exist yet). */
  const create = (ns: string, body: string, res: http.ServerResponse) => {
    let d: Json & { metadata: Json; spec: Json };
    try {
      d = JSON.parse(body) as typeof d;
    } catch {
      return send(res, 400, { apiVersion: 'v1', kind: 'Status', status: 'Failure', reason: 'BadRequest', code: 400 });
    }
    d.metadata = { ...(d.metadata ?? {}), namespace: (d.metadata?.namespace as string | undefined) ?? ns };
    if (d.metadata.namespace !== ns)
      return send(
        res,
        400,
        check('Status', Status, {
          apiVersion: 'v1',
          kind: 'Status',
          status: 'Failure',
          message: 'the namespace of the provided object does not match the namespace sent on the request',
          reason: 'BadRequest',
          code: 400,
        }),
      );
    if (!namespaces.has(ns)) return notFound(res, `namespaces "${ns}"`);
    const refused = invalid(d);
    if (refused) return send(res, 422, refused);
    const name = String(d.metadata.name);
    if (states.has(`${ns}/${name}`))
      return send(
        res,
        409,
        check('Status', Status, {
          apiVersion: 'v1',
          kind: 'Status',
          status: 'Failure',
          message: `deployments.apps "${name}" already exists`,
          reason: 'AlreadyExists',
          details: { name, group: 'apps', kind: 'deployments' },
          code: 409,
        }),
      );
    const created = admit(d);
    send(res, 201, check('Deployment', Deployment, structuredClone(created)));
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
      const namespace = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(url.pathname)?.[1];
      if (namespace && req.method === 'GET')
        return namespaces.has(namespace)
          ? send(
              res,
              200,
              check('Namespace', Namespace, {
                apiVersion: 'v1',
                kind: 'Namespace',
                metadata: { name: namespace, uid: `ns-${namespace}`, resourceVersion: '1', creationTimestamp: now() },
                spec: { finalizers: ['kubernetes'] },
                status: { phase: 'Active' },
              }),
            )
          : notFound(res, `namespaces "${namespace}"`);
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
      if (!name && req.method === 'POST') return create(ns, Buffer.concat(chunks).toString('utf8'), res);
      if (!name) {
        // A list or watch, selected by metadata.name as kubectl's rollout status asks.
        const selected = /^metadata\.name=(.+)$/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1];
        const matching = [...states.values()]
          .map((s) => s.deployment)
          .filter((d) => d.metadata.namespace === ns && (!selected || d.metadata.name === selected));
        if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
          res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
          // As the API server does: the headers go now, not with the first event. kubectl's
          // informer waits for them before it can stop, so a watch with nothing to replay (the
          // rollout finished between its list and its watch) hung kubectl past its --timeout.
          res.flushHeaders();
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
        // Metadata is the server's but for what a client may set: labels and annotations
        // (kubectl apply keeps its last-applied-configuration there).
        const metadata = {
          ...s.deployment.metadata,
          labels: patched.metadata.labels ?? {},
          annotations: patched.metadata.annotations ?? {},
        };
        const refused = invalid({ ...patched, metadata, status: s.deployment.status });
        if (refused) return send(res, 422, refused);
        s.deployment = { ...patched, metadata, status: s.deployment.status };
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
    addNamespace(name) {
      namespaces.add(name);
    },
    addDeployment({ namespace, name, container, image, progressDeadlineSeconds }) {
      namespaces.add(namespace);
      const labels = { app: name };
      admit({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace, labels },
        spec: {
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: container, image }] } },
          progressDeadlineSeconds,
        },
      });
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
