/**
 * The GitHub Actions artifact service on 127.0.0.1, as @actions/artifact 6.x speaks to it on a
 * runner (artifacts v4): Twirp JSON calls at ACTIONS_RESULTS_URL
 * (`/twirp/github.actions.results.api.v1.ArtifactService/<Method>`, snake_case fields, a bearer
 * runtime token that is a JWT whose `scp` claim names the run's and job's backend ids), and the
 * content uploaded by the Azure Storage SDK to the signed URL CreateArtifact returns, as staged
 * blocks and a block list (or one Put Blob).
 *
 *   const artifacts = await startArtifactServer();
 *   env = { ...env, ...artifacts.env };   // ACTIONS_RESULTS_URL, ACTIONS_RUNTIME_TOKEN
 *   artifacts.artifacts[0].content        // what a later job would download
 *
 * An artifact is visible only once FinalizeArtifact has committed its blob, with the size and
 * sha256 the client announced checked against what was uploaded.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

const SERVICE = 'github.actions.results.api.v1.ArtifactService';

/** An artifact as the service keeps it. */
interface StoredArtifact {
  id: number;
  name: string;
  runBackendId: string;
  jobBackendId: string;
  /** The committed content; null until finalized. */
  content: Buffer | null;
  /** Blocks staged and not yet committed, and a single-shot upload before finalizing. */
  blocks: Map<string, Buffer>;
  uploaded: Buffer | null;
}

/** The running service. */
export interface ArtifactServer {
  url: string;
  env: Record<string, string>;
  artifacts: StoredArtifact[];
  /** Twirp calls, in order: method and HTTP status. */
  calls: { method: string; status: number }[];
  stop(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A runtime token shaped as the runner's: an (unsigned, for tests) JWT with the Actions.Results scope. */
function runtimeToken(runBackendId: string, jobBackendId: string): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = { scp: `Actions.GenericRead:x Actions.Results:${runBackendId}:${jobBackendId}`, exp: 4102444800 };
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.${randomBytes(16).toString('base64url')}`;
}

/** Start the service on a free port. */
export async function startArtifactServer(): Promise<ArtifactServer> {
  const runBackendId = randomUUID();
  const jobBackendId = randomUUID();
  const token = runtimeToken(runBackendId, jobBackendId);
  const sig = randomBytes(6).toString('hex');
  const artifacts: StoredArtifact[] = [];
  const calls: ArtifactServer['calls'] = [];
  const sockets = new Set<Socket>();
  let nextId = 1000;
  let base = '';

  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  async function twirp(method: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse((await readBody(req)).toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      calls.push({ method, status: 400 });
      return json(res, 400, { code: 'malformed', msg: 'the body is not JSON' });
    }
    const done = (status: number, out: unknown) => {
      calls.push({ method, status });
      json(res, status, out);
    };
    if (req.headers.authorization !== `Bearer ${token}`)
      return done(401, { code: 'unauthenticated', msg: 'bad or missing runtime token' });
    if (body.workflow_run_backend_id !== runBackendId || body.workflow_job_run_backend_id !== jobBackendId)
      return done(400, { code: 'invalid_argument', msg: 'backend ids do not match the token' });
    const name = typeof body.name === 'string' ? body.name : '';
    switch (method) {
      case 'CreateArtifact': {
        if (!name) return done(400, { code: 'invalid_argument', msg: 'name is required' });
        if (artifacts.some((a) => a.name === name))
          return done(409, { code: 'already_exists', msg: `an artifact named ${name} already exists in this run` });
        const artifact: StoredArtifact = {
          id: nextId++,
          name,
          runBackendId,
          jobBackendId,
          content: null,
          blocks: new Map(),
          uploaded: null,
        };
        artifacts.push(artifact);
        return done(200, {
          ok: true,
          signed_upload_url: `${base}/devstoreaccount1/actions-results/${artifact.id}/${encodeURIComponent(name)}?sig=${sig}&se=x`,
        });
      }
      case 'FinalizeArtifact': {
        const artifact = artifacts.find((a) => a.name === name);
        if (!artifact?.uploaded) return done(200, { ok: false, artifact_id: '0' });
        if (Number(body.size) !== artifact.uploaded.length)
          return done(400, { code: 'invalid_argument', msg: 'size does not match the upload' });
        const hash = (body.hash as string | undefined) ?? '';
        if (hash && hash !== `sha256:${createHash('sha256').update(artifact.uploaded).digest('hex')}`)
          return done(400, { code: 'invalid_argument', msg: 'hash does not match the upload' });
        artifact.content = artifact.uploaded;
        return done(200, { ok: true, artifact_id: String(artifact.id) });
      }
      default:
        return done(404, { code: 'bad_route', msg: `no handler for ${method}` });
    }
  }

  async function blob(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const body = await readBody(req);
    const headers = { 'x-ms-request-id': randomBytes(8).toString('hex'), 'x-ms-version': '2024-11-04' };
    const id = Number(/^\/devstoreaccount1\/actions-results\/(\d+)\//.exec(url.pathname)?.[1]);
    const artifact = artifacts.find((a) => a.id === id);
    if (!artifact || url.searchParams.get('sig') !== sig || req.method !== 'PUT' || artifact.content)
      return void res.writeHead(403, { ...headers, 'x-ms-error-code': 'AuthenticationFailed' }).end();
    const created = { ...headers, etag: `"0x${id.toString(16)}"`, 'last-modified': new Date().toUTCString() };
    const comp = url.searchParams.get('comp');
    if (comp === 'block') {
      artifact.blocks.set(url.searchParams.get('blockid') ?? '', body);
      return void res.writeHead(201, { ...headers, 'content-length': '0' }).end();
    }
    if (comp === 'blocklist') {
      const ids = [...body.toString('utf8').matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)<\//g)].map((m) => m[1]);
      if (ids.some((b) => !artifact.blocks.has(b)))
        return void res.writeHead(400, { ...headers, 'x-ms-error-code': 'InvalidBlockList' }).end();
      artifact.uploaded = Buffer.concat(ids.map((b) => artifact.blocks.get(b)!));
      return void res.writeHead(201, { ...created, 'content-length': '0' }).end();
    }
    if (req.headers['x-ms-blob-type'] === 'BlockBlob') {
      artifact.uploaded = body;
      return void res.writeHead(201, { ...created, 'content-length': '0' }).end();
    }
    res.writeHead(400, { ...headers, 'x-ms-error-code': 'InvalidHeaderValue' }).end();
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    const m = new RegExp(`^/twirp/${SERVICE.replace(/\./g, '\\.')}/(\\w+)$`).exec(url.pathname);
    const handle = m && req.method === 'POST' ? twirp(m[1], req, res) : blob(req, res, url);
    handle.catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    env: { ACTIONS_RESULTS_URL: `${base}/`, ACTIONS_RUNTIME_TOKEN: token },
    artifacts,
    calls,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
