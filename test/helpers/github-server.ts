/**
 * An in-memory GitHub on 127.0.0.1 for tests: refs, annotated tag objects, commits,
 * contents, releases and deployments (with statuses), answering as api.github.com does.
 *
 * Every request is checked against GitHub's own OpenAPI description (the fixture written
 * by scripts/extract-openapi.ts): an unknown operation, a bad parameter or a body that
 * does not match the schema is answered 404/422 AND recorded in `violations`, which a
 * test asserts empty (`afterEach(() => expect(server.violations).toEqual([]))`).
 *
 * Failures on demand prove the client's retries: `failNext('repos/create-release', 502)`,
 * `failNext('*', 403)` (primary rate limit: x-ratelimit-remaining 0 and a reset time),
 * `failNext(op, 429)` (secondary rate limit with retry-after), `failNext(op, 'hang')`
 * (never answers, for timeouts), each N times.
 *
 * Deployments made outside the code under test: `repo.startJobDeployment('staging')` is the
 * one GitHub Actions creates for a job that names `environment:` (task deploy, empty
 * payload, github-actions[bot], in_progress until `finish()`); `repo.addDeployment({...})`
 * is another tool's, with any payload, creator and statuses.
 *
 *   const gh = await startGitHubServer({ token: 'ghs_secret' });
 *   gh.state.repo().importGit(repo.dir);          // commits, branches and tags of a real repo
 *   env.GITHUB_API_URL = gh.url;
 *   …
 *   expect(gh.violations).toEqual([]);
 *   await gh.stop();
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { checkRequest, matchOperation } from './openapi.js';

/** A request that broke GitHub's API description. */
interface Violation {
  method: string;
  path: string;
  operationId?: string;
  problems: string[];
}

/** One request as the server saw it. */
interface RecordedRequest {
  method: string;
  path: string;
  operationId?: string;
  body?: unknown;
  status: number;
  /** The Authorization header's credential (so a test can check which token was used). */
  token?: string;
}

/** What `failNext` answers with. */
type Failure =
  502 | 500 | 503 | 403 | 429 | 'hang' | { status: number; headers?: Record<string, string>; body?: unknown };

/** A git commit known to the fake. */
interface CommitObject {
  sha: string;
  message: string;
  parents: string[];
  tree: string;
  author: { name: string; email: string; date: string };
  /** Files the commit changed, for compare and get-commit. */
  files: { filename: string; status: 'added' | 'modified' | 'removed' | 'renamed' }[];
}

/** An annotated tag object. */
interface TagObject {
  sha: string;
  tag: string;
  message: string;
  object: { sha: string; type: string };
  tagger?: { name: string; email: string; date?: string };
}

/** A release. */
interface Release {
  id: number;
  tag_name: string;
  target_commitish: string;
  name: string | null;
  body: string | null;
  draft: boolean;
  prerelease: boolean;
  make_latest: string;
  created_at: string;
  published_at: string | null;
  html_url: string;
  url: string;
}

/** A deployment status. */
interface DeploymentStatus {
  id: number;
  state: 'error' | 'failure' | 'inactive' | 'in_progress' | 'queued' | 'pending' | 'success';
  description: string;
  environment: string;
  target_url: string;
  log_url: string;
  environment_url: string;
  created_at: string;
  updated_at: string;
}

/** A deployment and its statuses (oldest first). */
interface Deployment {
  id: number;
  sha: string;
  ref: string;
  task: string;
  payload: unknown;
  environment: string;
  original_environment: string;
  description: string | null;
  transient_environment: boolean;
  production_environment: boolean;
  created_at: string;
  updated_at: string;
  statuses: DeploymentStatus[];
  /** Who created it (default github-actions[bot], as with a job's GITHUB_TOKEN). */
  creator?: string;
}

/** What a deployment made outside the API under test holds (another tool's, or a job's). */
interface OtherDeployment {
  environment: string;
  task?: string;
  /** Any payload, as another tool writes it (GitHub's job deployment: `{}`). */
  payload?: unknown;
  creator?: string;
  /** Default: the default branch's head. */
  sha?: string;
  ref?: string;
  /** Statuses to add at once, oldest first. */
  states?: DeploymentStatus['state'][];
}

/** The deployment GitHub Actions creates for a job that names `environment:`. */
interface JobDeployment {
  deployment: Deployment;
  /** The job ends: its deployment's final status (success makes earlier successes inactive). */
  finish(state?: 'success' | 'failure' | 'error'): void;
}

/** A file in a branch. */
interface FileEntry {
  content: Buffer;
  sha: string;
}

let clock = Date.parse('2025-01-01T00:00:00Z');
/** Strictly increasing timestamps, so "newest first" never ties. */
function now(): string {
  clock += 1000;
  return new Date(clock).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function fakeSha(...parts: unknown[]): string {
  return createHash('sha1').update(JSON.stringify(parts)).update(String(Math.random())).digest('hex');
}

function blobSha(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

/** One repository of the fake GitHub. */
class RepoState {
  defaultBranch = 'main';
  /** Full ref name (`refs/tags/v1.0.0`, `refs/heads/main`) → object SHA (a commit, or a tag object). */
  readonly refs = new Map<string, string>();
  readonly tagObjects = new Map<string, TagObject>();
  readonly commits = new Map<string, CommitObject>();
  /** Branch → path → file. */
  readonly files = new Map<string, Map<string, FileEntry>>();
  readonly releases: Release[] = [];
  readonly deployments: Deployment[] = [];
  private nextId = 1;

  constructor(
    readonly owner: string,
    readonly name: string,
    readonly id: number,
  ) {}

  get fullName(): string {
    return `${this.owner}/${this.name}`;
  }

  /** A fresh numeric id for releases, deployments and statuses. */
  newId(): number {
    return this.nextId++;
  }

  /** Add a commit by hand (parents default to the current head of the default branch). */
  addCommit(
    message: string,
    options: { parents?: string[]; files?: CommitObject['files']; sha?: string; branch?: string } = {},
  ): string {
    const branch = options.branch ?? this.defaultBranch;
    const head = this.refs.get(`refs/heads/${branch}`);
    const sha = options.sha ?? fakeSha('commit', message);
    this.commits.set(sha, {
      sha,
      message,
      parents: options.parents ?? (head ? [head] : []),
      tree: fakeSha('tree', sha),
      author: { name: 'Test', email: 'test@example.com', date: now() },
      files: options.files ?? [],
    });
    this.refs.set(`refs/heads/${branch}`, sha);
    return sha;
  }

  /**
   * Load the commits, branches and tags (annotated ones as tag objects) of a real git
   * repository, and the named files at the head of its default branch.
   */
  importGit(dir: string, options: { files?: string[] } = {}): void {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', maxBuffer: 256 << 20 });
    const log = git(
      'log',
      '--all',
      '-z',
      '--name-status',
      '--format=%x1e%H%x1f%P%x1f%T%x1f%an%x1f%ae%x1f%aI%x1f%B%x1f',
    );
    for (const rec of log.split('\x1e')) {
      if (!rec.trim()) continue;
      const [sha, parents, tree, an, ae, date, message, rest] = rec.split('\x1f');
      const files: CommitObject['files'] = [];
      const parts = (rest ?? '').split('\0').map((s) => s.replace(/^\n+/, ''));
      for (let i = 0; i < parts.length; i++) {
        const status = parts[i];
        if (!/^[AMDRCT]\d*$/.test(status)) continue;
        if (status[0] === 'R' || status[0] === 'C') {
          files.push({ filename: parts[i + 2], status: 'renamed' });
          i += 2;
        } else {
          files.push({
            filename: parts[i + 1],
            status: status === 'A' ? 'added' : status === 'D' ? 'removed' : 'modified',
          });
          i += 1;
        }
      }
      this.commits.set(sha, {
        sha,
        message: message.replace(/\n+$/, ''),
        parents: parents ? parents.split(' ') : [],
        tree,
        author: { name: an, email: ae, date },
        files,
      });
    }
    const refs = git(
      'for-each-ref',
      '--format=%(refname)%09%(objectname)%09%(objecttype)%09%(*objectname)%09%(*objecttype)',
      'refs/heads',
      'refs/tags',
    );
    for (const line of refs.split('\n')) {
      if (!line) continue;
      const [ref, sha, type, peeled, peeledType] = line.split('\t');
      this.refs.set(ref, sha);
      if (type === 'tag') {
        const body = git('cat-file', 'tag', sha);
        const [head, ...msg] = body.split('\n\n');
        this.tagObjects.set(sha, {
          sha,
          tag: ref.replace(/^refs\/tags\//, ''),
          message: msg.join('\n\n'),
          object: { sha: peeled, type: peeledType },
          tagger: /^tagger (.+) <(.+)> /m.test(head)
            ? { name: /^tagger (.+) </m.exec(head)![1], email: /<(.+)>/.exec(head)![1] }
            : undefined,
        });
      }
    }
    const branch = git('symbolic-ref', '--quiet', '--short', 'HEAD').trim();
    if (branch) this.defaultBranch = branch;
    for (const f of options.files ?? []) {
      try {
        this.setFile(f, execFileSync('git', ['show', `HEAD:${f}`], { cwd: dir }));
      } catch {
        /* not in the repository: the file does not exist yet */
      }
    }
  }

  /** Create an annotated tag (tag object and ref) as another client would. */
  createAnnotatedTag(name: string, commit: string, message = name): string {
    const sha = fakeSha('tag', name, commit);
    this.tagObjects.set(sha, {
      sha,
      tag: name,
      message,
      object: { sha: commit, type: 'commit' },
      tagger: { name: 'Other', email: 'other@example.com', date: now() },
    });
    this.refs.set(`refs/tags/${name}`, sha);
    return sha;
  }

  /** Add a published release of `tag` as another client would. */
  addRelease(tag: string, fields: Partial<Release> = {}): Release {
    const id = this.newId();
    const created = now();
    const r: Release = {
      id,
      tag_name: tag,
      target_commitish: this.defaultBranch,
      name: tag,
      body: '',
      draft: false,
      prerelease: false,
      make_latest: 'true',
      created_at: created,
      published_at: created,
      html_url: `https://github.com/${this.fullName}/releases/tag/${encodeURIComponent(tag)}`,
      url: `https://api.github.com/repos/${this.fullName}/releases/${id}`,
      ...fields,
    };
    this.releases.push(r);
    return r;
  }

  /**
   * Add a deployment as another client would (another tool, a person with curl): any task,
   * payload and creator, with the given statuses.
   */
  addDeployment(o: OtherDeployment): Deployment {
    const created = now();
    const head = this.refs.get(`refs/heads/${this.defaultBranch}`);
    const sha = o.sha ?? (head ? this.peel(head)! : fakeSha('commit', 'none'));
    const d: Deployment = {
      id: this.newId(),
      sha,
      ref: o.ref ?? this.defaultBranch,
      task: o.task ?? 'deploy',
      payload: o.payload ?? {},
      environment: o.environment,
      original_environment: o.environment,
      description: null,
      transient_environment: false,
      production_environment: o.environment === 'production',
      created_at: created,
      updated_at: created,
      statuses: [],
      creator: o.creator,
    };
    this.deployments.push(d);
    for (const state of o.states ?? []) this.addStatus(d, state);
    return d;
  }

  /**
   * Start a job that names `environment:` as GitHub Actions does, before its first step runs:
   * a deployment with task deploy, an empty payload and github-actions[bot] as creator,
   * queued then in_progress (with the job's log URL) until `finish`.
   */
  startJobDeployment(environment: string, options: { sha?: string; ref?: string; runId?: number } = {}): JobDeployment {
    const logUrl = `https://github.com/${this.fullName}/actions/runs/${options.runId ?? 1}/job/1`;
    const deployment = this.addDeployment({
      environment,
      sha: options.sha,
      ref: options.ref,
      task: 'deploy',
      payload: {},
      creator: 'github-actions[bot]',
    });
    this.addStatus(deployment, 'queued', { log_url: logUrl });
    this.addStatus(deployment, 'in_progress', { log_url: logUrl });
    return { deployment, finish: (state = 'success') => void this.addStatus(deployment, state, { log_url: logUrl }) };
  }

  /**
   * Add a status to a deployment as GitHub does: a `success` (auto_inactive, the default)
   * makes the environment's earlier successful deployments inactive.
   */
  addStatus(
    d: Deployment,
    state: DeploymentStatus['state'],
    fields: Partial<Omit<DeploymentStatus, 'id' | 'state'>> & { auto_inactive?: boolean } = {},
  ): DeploymentStatus {
    const created = now();
    const { auto_inactive: autoInactive, ...rest } = fields;
    const s: DeploymentStatus = {
      id: this.newId(),
      state,
      description: '',
      environment: d.environment,
      target_url: rest.target_url ?? rest.log_url ?? '',
      log_url: rest.log_url ?? rest.target_url ?? '',
      environment_url: '',
      ...rest,
      created_at: created,
      updated_at: created,
    };
    d.statuses.push(s);
    d.updated_at = created;
    if (s.environment !== d.environment) d.environment = s.environment;
    if (s.state === 'success' && autoInactive !== false) {
      for (const other of this.deployments) {
        if (other === d || other.environment !== d.environment || other.transient_environment) continue;
        if (other.statuses.at(-1)?.state === 'success') {
          const t = now();
          other.statuses.push({
            ...other.statuses.at(-1)!,
            id: this.newId(),
            state: 'inactive',
            description: '',
            created_at: t,
            updated_at: t,
          });
          other.updated_at = t;
        }
      }
    }
    return s;
  }

  /** Put a file into a branch without a commit (the state a test starts from). */
  setFile(filePath: string, content: string | Buffer, branch = this.defaultBranch): void {
    const buf = Buffer.isBuffer(content) ? content : Buffer.from(content);
    const files = this.files.get(branch) ?? this.files.set(branch, new Map()).get(branch)!;
    files.set(filePath, { content: buf, sha: blobSha(buf) });
  }

  /** A file's text in a branch, or undefined. */
  file(filePath: string, branch = this.defaultBranch): string | undefined {
    return this.files.get(branch)?.get(filePath)?.content.toString('utf8');
  }

  /** The commit an object SHA (commit or tag object) finally points to. */
  peel(sha: string): string | undefined {
    let s = sha;
    for (let i = 0; i < 10; i++) {
      const t = this.tagObjects.get(s);
      if (!t) return s;
      s = t.object.sha;
    }
    return undefined;
  }

  /** A tag's ref target and the commit it points to, or undefined. */
  tag(name: string): { sha: string; commit: string; annotated: boolean } | undefined {
    const sha = this.refs.get(`refs/tags/${name}`);
    if (!sha) return undefined;
    return { sha, commit: this.peel(sha)!, annotated: this.tagObjects.has(sha) };
  }

  /** Resolve a branch, tag, full ref or (abbreviated) commit SHA to a commit SHA. */
  resolve(ref: string): string | undefined {
    for (const full of [ref, `refs/heads/${ref}`, `refs/tags/${ref}`]) {
      const sha = this.refs.get(full);
      if (sha) return this.peel(sha);
    }
    if (/^[0-9a-f]{40}$/.test(ref)) return this.commits.size === 0 || this.commits.has(ref) ? ref : undefined;
    if (/^[0-9a-f]{7,39}$/.test(ref)) return [...this.commits.keys()].find((s) => s.startsWith(ref));
    return undefined;
  }

  /** Every commit reachable from `sha`. */
  ancestors(sha: string): Set<string> {
    const seen = new Set<string>();
    const stack = [sha];
    while (stack.length) {
      const s = stack.pop()!;
      if (seen.has(s)) continue;
      seen.add(s);
      stack.push(...(this.commits.get(s)?.parents ?? []));
    }
    return seen;
  }

  /** True when the object exists (or nothing is known about commits, so anything goes). */
  hasObject(sha: string): boolean {
    return this.commits.size === 0 || this.commits.has(sha) || this.tagObjects.has(sha);
  }
}

/** The whole fake GitHub: repositories by full name. */
class GitHubState {
  private readonly repos = new Map<string, RepoState>();
  private repoIds = 1000;
  constructor(readonly defaultRepo: string) {}

  /** A repository (created empty on first use); no argument: the default one. */
  repo(fullName = this.defaultRepo): RepoState {
    const key = fullName.toLowerCase();
    let r = this.repos.get(key);
    if (!r) {
      const [owner, name] = fullName.split('/');
      r = new RepoState(owner, name, this.repoIds++);
      this.repos.set(key, r);
    }
    return r;
  }
}

/** A running fake GitHub. */
export interface GitHubServer {
  /** The API base URL, for GITHUB_API_URL. */
  url: string;
  state: GitHubState;
  /** Requests that broke the API description; assert empty after each test. */
  violations: Violation[];
  /** Every request, in order. */
  requests: RecordedRequest[];
  /** Answer the next `times` calls of `operationId` ('*': any operation) with `failure`. */
  failNext(operationId: string, failure: Failure, times?: number): void;
  /**
   * Run `fn` on the state just before the next `times` calls of `operationId` are answered:
   * how a test plays a racing run that gets there first.
   */
  before(operationId: string, fn: (repo: RepoState) => void, times?: number): void;
  /** How many requests called `operationId` (failed ones included). */
  count(operationId: string): number;
  stop(): Promise<void>;
}

/** Options of the fake. */
export interface GitHubServerOptions {
  /** The default repository (default acme/shop, as runBundledAction's GITHUB_REPOSITORY). */
  repo?: string;
  /** When set, requests must carry this token (401 otherwise). */
  token?: string;
  /** Reject body properties the schema does not declare (default true). */
  strictBodies?: boolean;
  /** Milliseconds every answer is held back, as GitHub's round trip (benchmarks: ~50). */
  latencyMs?: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(
      typeof body === 'object' && body && 'message' in body
        ? String((body as { message: unknown }).message)
        : String(status),
    );
  }
}

const DOCS = 'https://docs.github.com/rest';
const notFound = () => new HttpError(404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
const unprocessable = (message: string, errors?: unknown[]) =>
  new HttpError(422, { message, ...(errors ? { errors } : {}), documentation_url: DOCS, status: '422' });

/** Start the fake GitHub on a free port of 127.0.0.1. */
export async function startGitHubServer(options: GitHubServerOptions = {}): Promise<GitHubServer> {
  const state = new GitHubState(options.repo ?? 'acme/shop');
  const violations: Violation[] = [];
  const requests: RecordedRequest[] = [];
  const failures: { op: string; failure: Failure; left: number }[] = [];
  const befores: { op: string; fn: (repo: RepoState) => void; left: number }[] = [];
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  let base = '';

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', base);
    const method = req.method ?? 'GET';
    const record: RecordedRequest = { method, path: url.pathname, status: 0 };
    requests.push(record);
    const auth = req.headers.authorization;
    if (auth) record.token = auth.replace(/^(token|bearer)\s+/i, '');
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      const text = body === undefined ? '' : JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'x-github-media-type': 'github.v3; format=json',
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': '4999',
        ...headers,
      });
      res.end(text);
    };
    let body: unknown;
    if (raw.trim()) {
      try {
        body = JSON.parse(raw);
      } catch {
        violations.push({ method, path: url.pathname, problems: ['body is not JSON'] });
        return send(400, { message: 'Problems parsing JSON', documentation_url: DOCS, status: '400' });
      }
    }
    record.body = body;
    const matched = matchOperation(method, url.pathname);
    if (!matched) {
      violations.push({ method, path: url.pathname, problems: ["no such operation in GitHub's API description"] });
      return send(404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
    }
    const op = matched.operation.operationId;
    record.operationId = op;
    const problems = checkRequest(matched.operation, matched.params, url.searchParams, body);
    if (problems.length) {
      violations.push({ method, path: url.pathname, operationId: op, problems });
      return send(422, { message: 'Invalid request.', errors: problems, documentation_url: DOCS, status: '422' });
    }
    if (options.token && record.token !== options.token) {
      return send(401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' });
    }
    const failure = takeFailure(op);
    if (failure !== undefined) {
      if (failure === 'hang') {
        record.status = -1;
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      const f = failureResponse(failure);
      return send(f.status, f.body, f.headers);
    }
    if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
    try {
      const repo = state.repo(`${matched.params.owner}/${matched.params.repo}`);
      for (const b of befores.filter((x) => x.op === op && x.left > 0)) {
        b.left--;
        b.fn(repo);
      }
      const { status, data, headers } = route(op, repo, matched.params, url, (body ?? {}) as Record<string, unknown>);
      send(status, data, headers);
    } catch (err) {
      if (err instanceof HttpError) send(err.status, err.body, err.headers);
      else send(500, { message: String(err) });
    }
  }

  function takeFailure(op: string): Failure | undefined {
    const i = failures.findIndex((f) => f.left > 0 && (f.op === op || f.op === '*'));
    if (i < 0) return undefined;
    const f = failures[i];
    f.left--;
    if (f.left === 0) failures.splice(i, 1);
    return f.failure;
  }

  function route(
    op: string,
    repo: RepoState,
    p: Record<string, string>,
    url: URL,
    b: Record<string, unknown>,
  ): { status: number; data: unknown; headers?: Record<string, string> } {
    const q = url.searchParams;
    const api = `${base}/repos/${repo.fullName}`;
    const html = `https://github.com/${repo.fullName}`;
    const refJson = (ref: string, sha: string) => ({
      ref,
      node_id: Buffer.from(ref).toString('base64'),
      url: `${api}/git/${ref}`,
      object: {
        sha,
        type: repo.tagObjects.has(sha) ? 'tag' : 'commit',
        url: `${api}/git/${repo.tagObjects.has(sha) ? 'tags' : 'commits'}/${sha}`,
      },
    });
    const tagJson = (t: TagObject) => ({
      node_id: t.sha,
      sha: t.sha,
      url: `${api}/git/tags/${t.sha}`,
      tag: t.tag,
      message: t.message,
      tagger: { name: t.tagger?.name ?? '', email: t.tagger?.email ?? '', date: t.tagger?.date ?? now() },
      object: { ...t.object, url: `${api}/git/commits/${t.object.sha}` },
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    });
    const gitCommitJson = (c: CommitObject) => ({
      sha: c.sha,
      node_id: c.sha,
      url: `${api}/git/commits/${c.sha}`,
      html_url: `${html}/commit/${c.sha}`,
      author: c.author,
      committer: c.author,
      message: c.message,
      tree: { sha: c.tree, url: `${api}/git/trees/${c.tree}` },
      parents: c.parents.map((s) => ({ sha: s, url: `${api}/git/commits/${s}`, html_url: `${html}/commit/${s}` })),
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    });
    const commitJson = (c: CommitObject) => ({
      sha: c.sha,
      node_id: c.sha,
      url: `${api}/commits/${c.sha}`,
      html_url: `${html}/commit/${c.sha}`,
      commit: { message: c.message, author: c.author, committer: c.author, tree: { sha: c.tree } },
      parents: c.parents.map((s) => ({ sha: s, url: `${api}/commits/${s}` })),
      files: c.files.map((f) => ({ filename: f.filename, status: f.status })),
    });
    const releaseJson = (r: Release) => ({
      ...r,
      upload_url: `${api}/releases/${r.id}/assets{?name,label}`,
      assets: [],
    });
    const deploymentJson = (d: Deployment) => {
      const { statuses: _statuses, creator: _creator, ...rest } = d;
      return {
        ...rest,
        url: `${api}/deployments/${d.id}`,
        statuses_url: `${api}/deployments/${d.id}/statuses`,
        repository_url: api,
        creator: { login: d.creator ?? 'github-actions[bot]' },
      };
    };
    const statusJson = (d: Deployment, s: DeploymentStatus) => ({
      ...s,
      url: `${api}/deployments/${d.id}/statuses/${s.id}`,
      deployment_url: `${api}/deployments/${d.id}`,
      repository_url: api,
      creator: { login: 'github-actions[bot]' },
    });
    const page = <T>(items: T[]) => {
      const perPage = Math.min(Number(q.get('per_page') ?? 30), 100);
      const n = Number(q.get('page') ?? 1);
      const slice = items.slice((n - 1) * perPage, n * perPage);
      const headers: Record<string, string> = {};
      if (n * perPage < items.length) {
        const next = new URL(url.href);
        next.searchParams.set('page', String(n + 1));
        headers.link = `<${next.href}>; rel="next"`;
      }
      return { status: 200, data: slice, headers };
    };
    const commitOr422 = (ref: string, what: string) => {
      const sha = repo.resolve(ref);
      if (!sha) throw unprocessable(`No commit found for ${what}: ${ref}`);
      return sha;
    };

    switch (op) {
      case 'repos/get':
        return {
          status: 200,
          data: {
            id: repo.id,
            node_id: String(repo.id),
            name: repo.name,
            full_name: repo.fullName,
            private: true,
            owner: { login: repo.owner },
            html_url: html,
            url: api,
            default_branch: repo.defaultBranch,
          },
        };
      case 'git/get-ref': {
        const ref = `refs/${p.ref}`;
        const sha = repo.refs.get(ref);
        if (!sha) throw notFound();
        return { status: 200, data: refJson(ref, sha) };
      }
      case 'git/list-matching-refs': {
        const prefix = `refs/${p.ref}`;
        const list = [...repo.refs.entries()]
          .filter(([r]) => r.startsWith(prefix))
          .sort(([a], [b]) => a.localeCompare(b));
        return page(list.map(([r, s]) => refJson(r, s)));
      }
      case 'git/create-ref': {
        const ref = String(b.ref);
        const sha = String(b.sha);
        if (!/^refs\/[^/]+\/.+/.test(ref))
          throw unprocessable('Reference name must start with refs/ and have at least two slashes');
        if (repo.refs.has(ref)) throw unprocessable('Reference already exists');
        if (!repo.hasObject(sha)) throw unprocessable('Object does not exist');
        repo.refs.set(ref, sha);
        return { status: 201, data: refJson(ref, sha) };
      }
      case 'git/update-ref': {
        const ref = `refs/${p.ref}`;
        const old = repo.refs.get(ref);
        const sha = String(b.sha);
        if (!old) throw unprocessable('Reference does not exist');
        if (!repo.hasObject(sha)) throw unprocessable('Object does not exist');
        const oldCommit = repo.peel(old)!;
        if (!b.force && repo.commits.size && !repo.ancestors(repo.peel(sha)!).has(oldCommit))
          throw unprocessable('Update is not a fast forward');
        repo.refs.set(ref, sha);
        return { status: 200, data: refJson(ref, sha) };
      }
      case 'git/create-tag': {
        const object = String(b.object);
        if (!repo.hasObject(object)) throw unprocessable('Object does not exist');
        const sha = fakeSha('tag', b);
        const tagger = b.tagger as TagObject['tagger'];
        const t: TagObject = {
          sha,
          tag: String(b.tag),
          message: String(b.message),
          object: { sha: object, type: String(b.type) },
          tagger: tagger
            ? { ...tagger, date: tagger.date ?? now() }
            : {
                name: 'github-actions[bot]',
                email: '41898282+github-actions[bot]@users.noreply.github.com',
                date: now(),
              },
        };
        repo.tagObjects.set(sha, t);
        return { status: 201, data: tagJson(t) };
      }
      case 'git/get-tag': {
        const t = repo.tagObjects.get(p.tag_sha);
        if (!t) throw notFound();
        return { status: 200, data: tagJson(t) };
      }
      case 'git/get-commit': {
        const c = repo.commits.get(p.commit_sha);
        if (!c) throw notFound();
        return { status: 200, data: gitCommitJson(c) };
      }
      case 'repos/get-commit': {
        const sha = repo.resolve(p.ref);
        const c = sha ? repo.commits.get(sha) : undefined;
        if (!c) throw unprocessable(`No commit found for SHA: ${p.ref}`);
        return { status: 200, data: commitJson(c) };
      }
      case 'repos/compare-commits': {
        const baseSha = repo.resolve(p.base);
        const headSha = repo.resolve(p.head);
        if (!baseSha || !headSha) throw notFound();
        const fromBase = repo.ancestors(baseSha);
        const fromHead = repo.ancestors(headSha);
        const ahead = [...fromHead].filter((s) => !fromBase.has(s));
        const behind = [...fromBase].filter((s) => !fromHead.has(s));
        // Oldest first, as GitHub lists them: parents before children.
        const order = topoOldestFirst(repo, ahead);
        const files = new Map<string, string>();
        for (const s of order) for (const f of repo.commits.get(s)?.files ?? []) files.set(f.filename, f.status);
        const status =
          ahead.length && behind.length ? 'diverged' : ahead.length ? 'ahead' : behind.length ? 'behind' : 'identical';
        return {
          status: 200,
          data: {
            url: `${api}/compare/${p.base}...${p.head}`,
            html_url: `${html}/compare/${p.base}...${p.head}`,
            status,
            ahead_by: ahead.length,
            behind_by: behind.length,
            total_commits: ahead.length,
            commits: order.map((s) => commitJson(repo.commits.get(s)!)),
            files: [...files].map(([filename, st]) => ({ filename, status: st })),
          },
        };
      }
      case 'repos/create-release': {
        const tag = String(b.tag_name);
        if (repo.releases.some((r) => r.tag_name === tag))
          throw unprocessable('Validation Failed', [
            { resource: 'Release', code: 'already_exists', field: 'tag_name' },
          ]);
        const target = b.target_commitish ? String(b.target_commitish) : repo.defaultBranch;
        const draft = Boolean(b.draft);
        if (!repo.refs.has(`refs/tags/${tag}`) && !draft) {
          // GitHub creates a lightweight tag at target_commitish for a published release.
          repo.refs.set(`refs/tags/${tag}`, commitOr422(target, 'target_commitish'));
        }
        const id = repo.newId();
        const created = now();
        const r: Release = {
          id,
          tag_name: tag,
          target_commitish: target,
          name: b.name === undefined ? tag : (b.name as string),
          body: (b.body as string | undefined) ?? null,
          draft,
          prerelease: Boolean(b.prerelease),
          make_latest: (b.make_latest as string | undefined) ?? 'true',
          created_at: created,
          published_at: draft ? null : created,
          html_url: `${html}/releases/${draft ? `tag/untagged-${id}` : `tag/${encodeURIComponent(tag)}`}`,
          url: `${api}/releases/${id}`,
        };
        repo.releases.push(r);
        return { status: 201, data: releaseJson(r) };
      }
      case 'repos/get-release-by-tag': {
        // Drafts are not found by tag, as on GitHub: only list-releases shows them.
        const r = repo.releases.find((x) => x.tag_name === p.tag && !x.draft);
        if (!r) throw notFound();
        return { status: 200, data: releaseJson(r) };
      }
      case 'repos/list-releases':
        return page([...repo.releases].reverse().map(releaseJson));
      case 'repos/update-release': {
        const r = repo.releases.find((x) => x.id === Number(p.release_id));
        if (!r) throw notFound();
        for (const k of ['tag_name', 'target_commitish', 'name', 'body', 'draft', 'prerelease', 'make_latest'] as const)
          if (b[k] !== undefined) (r as unknown as Record<string, unknown>)[k] = b[k];
        if (!r.draft && !r.published_at) {
          r.published_at = now();
          r.html_url = `${html}/releases/tag/${encodeURIComponent(r.tag_name)}`;
          if (!repo.refs.has(`refs/tags/${r.tag_name}`))
            repo.refs.set(`refs/tags/${r.tag_name}`, commitOr422(r.target_commitish, 'target_commitish'));
        }
        return { status: 200, data: releaseJson(r) };
      }
      case 'repos/get-content': {
        const branch = q.get('ref') ?? repo.defaultBranch;
        const f = repo.files.get(branch)?.get(p.path);
        if (!f) throw notFound();
        return {
          status: 200,
          data: {
            type: 'file',
            encoding: 'base64',
            size: f.content.length,
            name: p.path.split('/').pop(),
            path: p.path,
            content: f.content.toString('base64').replace(/(.{60})/g, '$1\n'),
            sha: f.sha,
            url: `${api}/contents/${p.path}`,
            git_url: `${api}/git/blobs/${f.sha}`,
            html_url: `${html}/blob/${branch}/${p.path}`,
            download_url: null,
            _links: { self: `${api}/contents/${p.path}`, git: null, html: null },
          },
        };
      }
      case 'repos/create-or-update-file-contents': {
        const branch = (b.branch as string | undefined) ?? repo.defaultBranch;
        const existing = repo.files.get(branch)?.get(p.path);
        if (existing && !b.sha) throw unprocessable('Invalid request.\n\n"sha" wasn\'t supplied.');
        if (existing && b.sha !== existing.sha)
          throw new HttpError(409, {
            message: `${p.path} does not match ${String(b.sha)}`,
            documentation_url: DOCS,
            status: '409',
          });
        if (!existing && b.sha) throw unprocessable(`${p.path} does not exist`);
        const content = Buffer.from(String(b.content), 'base64');
        repo.setFile(p.path, content, branch);
        const head = repo.refs.get(`refs/heads/${branch}`);
        const sha = repo.addCommit(String(b.message), {
          branch,
          parents: head ? [head] : [],
          files: [{ filename: p.path, status: existing ? 'modified' : 'added' }],
        });
        const f = repo.files.get(branch)!.get(p.path)!;
        return {
          status: existing ? 200 : 201,
          data: {
            content: { name: p.path.split('/').pop(), path: p.path, sha: f.sha, size: f.content.length, type: 'file' },
            commit: gitCommitJson(repo.commits.get(sha)!),
          },
        };
      }
      case 'repos/create-deployment': {
        const ref = String(b.ref);
        const sha = repo.resolve(ref);
        if (!sha)
          throw new HttpError(422, { message: `No ref found for: ${ref}`, documentation_url: DOCS, status: '422' });
        const environment = (b.environment as string | undefined) ?? 'production';
        const created = now();
        const d: Deployment = {
          id: repo.newId(),
          sha,
          ref,
          task: (b.task as string | undefined) ?? 'deploy',
          payload: typeof b.payload === 'string' ? safeJson(b.payload) : (b.payload ?? {}),
          environment,
          original_environment: environment,
          description: (b.description as string | null | undefined) ?? null,
          transient_environment: Boolean(b.transient_environment),
          production_environment:
            b.production_environment === undefined ? environment === 'production' : Boolean(b.production_environment),
          created_at: created,
          updated_at: created,
          statuses: [],
        };
        repo.deployments.push(d);
        return { status: 201, data: deploymentJson(d) };
      }
      case 'repos/list-deployments': {
        const list = [...repo.deployments]
          .reverse()
          .filter(
            (d) =>
              (q.get('environment') === null || d.environment === q.get('environment')) &&
              (q.get('task') === null || d.task === q.get('task')) &&
              (q.get('ref') === null || d.ref === q.get('ref')) &&
              (q.get('sha') === null || d.sha === q.get('sha')),
          );
        return page(list.map(deploymentJson));
      }
      case 'repos/get-deployment': {
        const d = repo.deployments.find((x) => x.id === Number(p.deployment_id));
        if (!d) throw notFound();
        return { status: 200, data: deploymentJson(d) };
      }
      case 'repos/create-deployment-status': {
        const d = repo.deployments.find((x) => x.id === Number(p.deployment_id));
        if (!d) throw notFound();
        const targetUrl = (b.target_url as string | undefined) ?? (b.log_url as string | undefined) ?? '';
        const s = repo.addStatus(d, b.state as DeploymentStatus['state'], {
          description: (b.description as string | undefined) ?? '',
          environment: (b.environment as string | undefined) ?? d.environment,
          target_url: targetUrl,
          log_url: (b.log_url as string | undefined) ?? (b.target_url as string | undefined) ?? '',
          environment_url: (b.environment_url as string | undefined) ?? '',
          auto_inactive: b.auto_inactive as boolean | undefined,
        });
        return { status: 201, data: statusJson(d, s) };
      }
      case 'repos/list-deployment-statuses': {
        const d = repo.deployments.find((x) => x.id === Number(p.deployment_id));
        if (!d) throw notFound();
        return page([...d.statuses].reverse().map((s) => statusJson(d, s)));
      }
      default:
        throw new HttpError(501, { message: `the test server does not implement ${op}` });
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    state,
    violations,
    requests,
    failNext(operationId, failure, times = 1) {
      failures.push({ op: operationId, failure, left: times });
    },
    before(operationId, fn, times = 1) {
      befores.push({ op: operationId, fn, left: times });
    },
    count: (operationId) => requests.filter((r) => r.operationId === operationId).length,
    async stop() {
      for (const res of hanging) res.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The status, headers and body GitHub sends for a failure. */
function failureResponse(f: Exclude<Failure, 'hang'>): {
  status: number;
  headers: Record<string, string>;
  body: unknown;
} {
  if (typeof f === 'object')
    return { status: f.status, headers: f.headers ?? {}, body: f.body ?? { message: `status ${f.status}` } };
  switch (f) {
    case 403:
      return {
        status: 403,
        headers: {
          'x-ratelimit-remaining': '0',
          'x-ratelimit-limit': '5000',
          'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 1),
        },
        body: { message: 'API rate limit exceeded for installation.', documentation_url: DOCS, status: '403' },
      };
    case 429:
      return {
        status: 429,
        headers: { 'retry-after': '1' },
        body: {
          message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
          documentation_url: DOCS,
          status: '429',
        },
      };
    default:
      return { status: f, headers: {}, body: { message: f === 502 ? 'Server Error' : 'Service Unavailable' } };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Order commits so that parents come before children (oldest first). */
function topoOldestFirst(repo: RepoState, shas: string[]): string[] {
  const set = new Set(shas);
  const out: string[] = [];
  const done = new Set<string>();
  const visit = (s: string) => {
    if (done.has(s) || !set.has(s)) return;
    done.add(s);
    for (const parent of repo.commits.get(s)?.parents ?? []) visit(parent);
    out.push(s);
  };
  for (const s of shas) visit(s);
  return out;
}
