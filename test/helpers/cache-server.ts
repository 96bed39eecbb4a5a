/**
 * The GitHub Actions cache service on 127.0.0.1, as @actions/cache 6.x speaks to it on a
 * runner today (cache service v2): Twirp JSON calls at ACTIONS_RESULTS_URL
 * (`/twirp/github.actions.results.api.v1.CacheService/<Method>`, a bearer token from
 * ACTIONS_RUNTIME_TOKEN), and the archive itself uploaded to and downloaded from signed
 * blob-storage URLs — the upload by the Azure Storage SDK (a single-shot Put Blob for an
 * archive under 128 MiB), the download by a plain GET.
 *
 *   const cache = await startCacheServer();
 *   env = { ...env, ...cache.env };    // ACTIONS_RESULTS_URL, ACTIONS_CACHE_SERVICE_V2, ACTIONS_RUNTIME_TOKEN
 *   cache.failNext('GetCacheEntryDownloadURL', 500, 5);
 *
 * Entries are matched as the service matches them: the key and the version (a hash of the
 * paths and the compression) exactly, then each restore key as a prefix, newest first. An
 * entry becomes visible only once FinalizeCacheEntryUpload has committed its blob.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

const SERVICE = 'github.actions.results.api.v1.CacheService';

/** A cache entry as the service keeps it. */
interface CacheEntry {
  id: number;
  key: string;
  version: string;
  /** The committed archive; null until finalized. */
  archive: Buffer | null;
  sizeBytes: number;
}

/** One call as the service saw it. */
interface CacheCall {
  method: string;
  body: Record<string, unknown>;
  status: number;
}

/** The running service. */
export interface CacheServer {
  url: string;
  token: string;
  /** What the bundled action needs in its environment to use this service. */
  env: Record<string, string>;
  entries: CacheEntry[];
  /** Twirp calls, in order. */
  calls: CacheCall[];
  /** Blob requests (method and path), in order. */
  blobRequests: string[];
  /** Answer the next `times` calls of `method` (a Twirp method, or 'blob') with `status`. */
  failNext(method: string, status: number, times?: number): void;
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

/** Start the service on a free port. */
export async function startCacheServer(): Promise<CacheServer> {
  const token = `runtime-${randomBytes(8).toString('hex')}`;
  const entries: CacheEntry[] = [];
  const calls: CacheCall[] = [];
  const blobRequests: string[] = [];
  const failures = new Map<string, number[]>();
  const sockets = new Set<Socket>();
  let nextId = 1;
  let base = '';

  const failure = (method: string): number | undefined => failures.get(method)?.shift();
  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const twirpError = (res: ServerResponse, status: number, code: string, msg: string) =>
    json(res, status, { code, msg });
  const blobUrl = (e: CacheEntry) => `${base}/devstoreaccount1/actions-cache/${e.id}?sig=${token.slice(-6)}&se=x`;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');

  async function twirp(method: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = (await readBody(req)).toString('utf8');
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(raw || '{}') as Record<string, unknown>;
    } catch {
      calls.push({ method, body: {}, status: 400 });
      return twirpError(res, 400, 'malformed', 'the body is not JSON');
    }
    const done = (status: number, out: unknown) => {
      calls.push({ method, body, status });
      json(res, status, out);
    };
    if (req.headers.authorization !== `Bearer ${token}`) {
      calls.push({ method, body, status: 401 });
      return twirpError(res, 401, 'unauthenticated', 'bad or missing runtime token');
    }
    if (req.headers['content-type'] !== 'application/json') return done(415, { code: 'malformed', msg: 'JSON only' });
    const failed = failure(method);
    if (failed !== undefined) return done(failed, { code: 'internal', msg: 'the cache service failed (on purpose)' });
    const key = str(body.key);
    const version = str(body.version);
    switch (method) {
      case 'CreateCacheEntry': {
        if (!key || !version) return done(400, { code: 'invalid_argument', msg: 'key and version are required' });
        if (entries.some((e) => e.key === key && e.version === version))
          return done(409, { code: 'already_exists', msg: 'cache entry already exists' });
        const entry: CacheEntry = { id: nextId++, key, version, archive: null, sizeBytes: 0 };
        entries.push(entry);
        return done(200, { ok: true, signed_upload_url: blobUrl(entry) });
      }
      case 'FinalizeCacheEntryUpload': {
        const entry = entries.find((e) => e.key === key && e.version === version);
        const size = Number(body.sizeBytes ?? body.size_bytes);
        if (!entry || !entry.archive) return done(200, { ok: false, message: 'no uploaded archive for this entry' });
        if (size !== entry.archive.length)
          return done(200, {
            ok: false,
            message: `size mismatch: ${size} announced, ${entry.archive.length} uploaded`,
          });
        entry.sizeBytes = size;
        return done(200, { ok: true, entry_id: String(entry.id) });
      }
      case 'GetCacheEntryDownloadURL': {
        const ready = entries.filter((e) => e.archive && e.sizeBytes && e.version === version).reverse();
        const restoreKeys = Array.isArray(body.restoreKeys ?? body.restore_keys)
          ? ((body.restoreKeys ?? body.restore_keys) as unknown[]).map(str)
          : [];
        let hit = ready.find((e) => e.key === key);
        for (const prefix of restoreKeys) hit ??= ready.find((e) => e.key.startsWith(prefix));
        if (!hit) return done(200, { ok: false, signed_download_url: '', matched_key: '' });
        return done(200, { ok: true, signed_download_url: blobUrl(hit), matched_key: hit.key });
      }
      default:
        return done(404, { code: 'bad_route', msg: `no handler for ${method}` });
    }
  }

  async function blob(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    blobRequests.push(`${req.method} ${url.pathname}`);
    const body = await readBody(req);
    const id = Number(/^\/devstoreaccount1\/actions-cache\/(\d+)$/.exec(url.pathname)?.[1]);
    const entry = entries.find((e) => e.id === id);
    const failed = failure('blob');
    const headers = {
      'x-ms-request-id': randomBytes(8).toString('hex'),
      'x-ms-version': '2024-11-04',
      date: new Date().toUTCString(),
    };
    if (failed !== undefined) return void res.writeHead(failed, headers).end();
    if (!entry || url.searchParams.get('sig') !== token.slice(-6))
      return void res.writeHead(403, { ...headers, 'x-ms-error-code': 'AuthenticationFailed' }).end();
    if (req.method === 'PUT') {
      // Put Blob of a block blob in one shot: the SDK's path for archives under maxSingleShotSize.
      if (req.headers['x-ms-blob-type'] !== 'BlockBlob' || entry.archive)
        return void res.writeHead(400, { ...headers, 'x-ms-error-code': 'InvalidHeaderValue' }).end();
      entry.archive = body;
      res.writeHead(201, {
        ...headers,
        etag: `"0x${id.toString(16)}"`,
        'last-modified': new Date().toUTCString(),
        'x-ms-request-server-encrypted': 'true',
        'content-length': '0',
      });
      return void res.end();
    }
    if (req.method === 'GET' && entry.archive && entry.sizeBytes) {
      res.writeHead(200, {
        ...headers,
        'content-type': 'application/octet-stream',
        'content-length': String(entry.archive.length),
      });
      return void res.end(entry.archive);
    }
    res.writeHead(404, { ...headers, 'x-ms-error-code': 'BlobNotFound' }).end();
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
    token,
    env: { ACTIONS_RESULTS_URL: `${base}/`, ACTIONS_CACHE_SERVICE_V2: 'True', ACTIONS_RUNTIME_TOKEN: token },
    entries,
    calls,
    blobRequests,
    failNext(method, status, times = 1) {
      const list = failures.get(method) ?? [];
      for (let i = 0; i < times; i++) list.push(status);
      failures.set(method, list);
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
