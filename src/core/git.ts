/**
 * The git CLI, always with argument arrays. It notices a shallow clone (the default of
 * actions/checkout) and fetches what an answer needs — tags, history back to a base —
 * before it answers, and logs what it fetched.
 */
import { spawn } from 'node:child_process';
import braces from 'braces';
import { UserError } from './errors.js';
import { ExecError, execFile, execStream } from './exec.js';
import { retry } from './retry.js';
import type { Logger } from './runtime.js';

/** One commit as read from `git log`. */
export interface Commit {
  sha: string;
  /** Parent SHAs; more than one for a merge commit. */
  parents: string[];
  subject: string;
  body: string;
  /** Author date, ISO 8601; only when logStream was asked for dates (formatting them costs). */
  date?: string;
}

/** A tag and the commit it points to. */
export interface TagRef {
  name: string;
  commit: string;
}

/** One changed file between two commits. */
export interface FileChange {
  status: 'A' | 'M' | 'D' | 'R' | 'C' | 'T' | 'U' | 'X';
  path: string;
  /** The old path of a rename or copy. */
  from?: string;
}

const FIELD = '\x1f';

/**
 * The line of git's output that says what went wrong: its `fatal:` or `error:` line, not the
 * usage hint git prints after it ("'git <command> [<revision>...] -- [<file>...]'").
 */
function gitCause(result: { stderr: string; stdout: string }): string {
  const lines = (result.stderr || result.stdout).trim().split('\n');
  return (lines.find((l) => /^(fatal|error): /.test(l)) ?? lines.pop() ?? '').replace(/^(fatal|error): /, '');
}

/** A git repository at `cwd`. */
export class Git {
  private shallowChecked: boolean | undefined;
  private hidden: ReadonlySet<string> = new Set();
  constructor(
    readonly cwd: string,
    private readonly log?: Logger,
    private readonly remote = 'origin',
  ) {}

  /** Run git and return stdout; a failure becomes a one-line UserError. */
  async run(args: readonly string[]): Promise<string> {
    try {
      const result = await execFile('git', args, { cwd: this.cwd, env: gitEnv() });
      if (result.code !== 0) throw new ExecError('git', args, result);
      return result.stdout;
    } catch (err) {
      if (err instanceof ExecError) {
        if ((await this.tryRun(['rev-parse', '--verify', '--quiet', 'HEAD'])) === null) {
          if (await this.isRepository())
            throw new UserError(
              `the repository in ${this.cwd} has no commits yet (expected a checkout with at least one commit)`,
            );
          throw new UserError(
            `${this.cwd} is not in a git repository (expected a checkout of the repository: actions/checkout with fetch-depth: 0)`,
          );
        }
        throw new UserError(`git ${args.slice(0, 2).join(' ')} failed in ${this.cwd}: ${gitCause(err.result)}`);
      }
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError('git is not installed or not on PATH');
      throw err;
    }
  }

  /** True when `cwd` is inside a git work tree. */
  private async isRepository(): Promise<boolean> {
    return (await this.tryRun(['rev-parse', '--is-inside-work-tree'])) !== null;
  }

  /** Run git and return stdout, or null when it exits non-zero. */
  async tryRun(args: readonly string[]): Promise<string | null> {
    const result = await execFile('git', args, { cwd: this.cwd, env: gitEnv() });
    return result.code === 0 ? result.stdout : null;
  }

  /** The full SHA of `ref` as a commit, or null when it does not exist here. */
  async resolveCommit(ref: string): Promise<string | null> {
    if (/^0+$/.test(ref)) return null;
    const out = await this.tryRun(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
    return out ? out.trim() : null;
  }

  /** The SHA of HEAD. */
  async head(): Promise<string> {
    return (await this.run(['rev-parse', 'HEAD'])).trim();
  }

  /** The checked-out branch name, or null on a detached HEAD. */
  async currentBranch(): Promise<string | null> {
    const out = await this.tryRun(['symbolic-ref', '--quiet', '--short', 'HEAD']);
    return out ? out.trim() : null;
  }

  /** HEAD's SHA and whether the clone is shallow, in one git call. */
  async headState(): Promise<{ head: string; shallow: boolean }> {
    const [shallow, head] = (await this.run(['rev-parse', '--is-shallow-repository', 'HEAD'])).trim().split('\n');
    this.shallowChecked = shallow === 'true';
    return { head, shallow: this.shallowChecked };
  }

  /** True when the repository is a shallow clone. */
  async isShallow(): Promise<boolean> {
    if (this.shallowChecked === false) return false;
    const out = (await this.run(['rev-parse', '--is-shallow-repository'])).trim();
    this.shallowChecked = out === 'true';
    return this.shallowChecked;
  }

  /** True when `ancestor` is reachable from `descendant`. */
  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    const r = await execFile('git', ['merge-base', '--is-ancestor', ancestor, descendant], {
      cwd: this.cwd,
      env: gitEnv(),
    });
    return r.code === 0;
  }

  /** Which of `refs` (full names) are reachable from `head`: one git call for many isAncestor questions. */
  async mergedInto(refs: readonly string[], head: string): Promise<Set<string>> {
    if (refs.length === 0) return new Set();
    const out = await this.run(['for-each-ref', `--merged=${head}`, '--format=%(refname)', ...refs]);
    return new Set(out.split('\n').filter(Boolean));
  }

  /** The best common ancestor of two commits, or null when they share no history here. */
  async mergeBase(a: string, b: string): Promise<string | null> {
    const out = await this.tryRun(['merge-base', a, b]);
    return out ? out.trim() : null;
  }

  /**
   * Every tag matching the glob `pattern`, with the commit it points to (annotated tags peeled).
   * The one tag lister of every action (with tagNames): `*` is every tag, `py/1.0.0` and
   * `@acme/web@2.3.0` included.
   */
  async tags(pattern = '*', mergedInto?: string): Promise<TagRef[]> {
    const args = ['for-each-ref', '--format=%(refname:strip=2)%09%(objectname)%09%(*objectname)'];
    if (mergedInto) args.push(`--merged=${mergedInto}`);
    args.push(tagRefPattern(pattern));
    const out = await this.run(args);
    const tags: TagRef[] = [];
    for (const line of out.split('\n')) {
      if (!line) continue;
      const [name, object, peeled] = line.split('\t');
      if (!this.hidden.has(name)) tags.push({ name, commit: peeled || object });
    }
    return tags;
  }

  /**
   * The names of the tags matching any glob of `patterns`, optionally only those reachable
   * from `mergedInto`. Tag objects are not read (peeling thousands of annotated tags costs
   * more than listing them): use `refs/tags/<name>` where a commit is expected.
   */
  async tagNames(patterns: readonly string[] = ['*'], mergedInto?: string): Promise<string[]> {
    const args = ['for-each-ref', '--format=%(refname:strip=2)'];
    if (mergedInto) args.push(`--merged=${mergedInto}`);
    args.push(...patterns.map(tagRefPattern));
    const out = await this.run(args);
    return out ? out.split('\n').filter((name) => name && !this.hidden.has(name)) : [];
  }

  /** From now on tags() and tagNames() leave these tags out, as if they were not there. */
  hideTags(names: Iterable<string>): void {
    this.hidden = new Set([...this.hidden, ...names]);
  }

  /** The annotated tags on `ref`, each with its message (lightweight tags have none). */
  async annotatedTagsAt(ref: string): Promise<{ name: string; message: string }[]> {
    const out = await this.run([
      'for-each-ref',
      `--points-at=${ref}`,
      '--format=%(refname:strip=2)%00%(objecttype)%00%(contents)%00',
      'refs/tags',
    ]);
    const parts = out.split('\0');
    const tags: { name: string; message: string }[] = [];
    for (let i = 0; i + 2 < parts.length; i += 3)
      if (parts[i + 1] === 'tag') tags.push({ name: parts[i].replace(/^\n/, ''), message: parts[i + 2] });
    return tags;
  }

  /**
   * Stream the commits of `range` (newest first), optionally only those touching `paths`,
   * without holding the whole history in memory. Return false from `onCommit` to stop.
   * The whole message (`%B`) is read and split as git splits it, so a message may hold any
   * byte (the field separator included) but NUL, which git itself cannot store.
   */
  /** How many commits `range` holds (touching `paths`), without reading them. */
  async countCommits(range: string[], paths: string[] = []): Promise<number> {
    const out = await this.run(['rev-list', '--count', ...range, '--', ...pathspecs(paths)]);
    return Number(out.trim()) || 0;
  }

  async logStream(
    range: string[],
    onCommit: (commit: Commit) => void | false,
    options: { paths?: string[]; firstParent?: boolean; noMerges?: boolean; dates?: boolean; maxCount?: number } = {},
  ): Promise<void> {
    const args = ['log', '-z', `--format=%H${FIELD}%P${FIELD}${options.dates ? '%aI' : ''}${FIELD}%B`];
    if (options.maxCount !== undefined) args.push(`--max-count=${options.maxCount}`);
    if (options.firstParent) args.push('--first-parent');
    if (options.noMerges) args.push('--no-merges');
    args.push(...range, '--');
    if (options.paths && options.paths.length) args.push(...pathspecs(options.paths));
    await execStream(
      'git',
      args,
      (rec) => {
        if (!rec) return;
        // The first three fields never hold the separator; everything after them is the message.
        const a = rec.indexOf(FIELD);
        const b = rec.indexOf(FIELD, a + 1);
        const c = rec.indexOf(FIELD, b + 1);
        if (a < 0 || b < 0 || c < 0) return;
        const parents = rec.slice(a + 1, b);
        const { subject, body } = splitMessage(rec.slice(c + 1));
        return onCommit({
          sha: rec.slice(0, a),
          parents: parents ? parents.split(' ') : [],
          date: options.dates ? rec.slice(b + 1, c) : undefined,
          subject,
          body,
        });
      },
      // GIT_FLUSH=0: into a pipe git otherwise writes (and node wakes up) once per commit.
      { cwd: this.cwd, env: { ...gitEnv(), GIT_FLUSH: '0' }, separator: '\0' },
    ).catch((err) => {
      if (err instanceof ExecError) {
        throw new UserError(`git log ${range.join(' ')} failed: ${err.result.stderr.trim().split('\n').pop() ?? ''}`);
      }
      throw err;
    });
  }

  /** The files changed from `base` to `head`, with renames detected. */
  async changedFiles(base: string, head: string): Promise<FileChange[]> {
    const out = await this.run(['diff', '--name-status', '-z', '-M', base, head]);
    const parts = out.split('\0');
    const changes: FileChange[] = [];
    for (let i = 0; i < parts.length;) {
      const status = parts[i++];
      if (!status) continue;
      const kind = status[0] as FileChange['status'];
      if (kind === 'R' || kind === 'C') {
        const from = parts[i++];
        const to = parts[i++];
        changes.push({ status: kind, path: to, from });
      } else {
        changes.push({ status: kind, path: parts[i++] });
      }
    }
    return changes;
  }

  /** Fetch every tag from the remote, noting how many arrived. */
  async fetchTags(): Promise<void> {
    const before = (await this.tags()).length;
    const failure = await this.fetch(['--force', '--no-recurse-submodules', this.remote, '+refs/tags/*:refs/tags/*']);
    // Only a shallow clone fetches: a complete checkout has the tags and history already.
    if (failure)
      throw new UserError(
        `Could not fetch the tags from ${this.remote}: ${failure}; check out with \`fetch-depth: 0\` (actions/checkout) so that nothing has to be fetched`,
      );
    const after = (await this.tags()).length;
    this.log?.info(`Fetched tags from ${this.remote}: ${after - before} new, ${after} in all.`);
  }

  /**
   * In a shallow clone, deepen the history (doubling) until `satisfied` says it has what
   * it needs or the clone is complete. Returns false when history could not be had.
   */
  async deepenUntil(satisfied: () => Promise<boolean>, what: string): Promise<boolean> {
    if (!(await this.isShallow())) return satisfied();
    if (await satisfied()) return true;
    let depth = 50;
    for (let round = 0; round < 12; round++) {
      const failure = await this.fetch(['--no-tags', '--no-recurse-submodules', `--deepen=${depth}`, this.remote]);
      if (failure) {
        this.log?.warning(`Could not deepen the shallow clone to find ${what}: ${failure}`);
        return false;
      }
      this.shallowChecked = undefined;
      const shallow = await this.isShallow();
      this.log?.info(
        `Shallow clone: fetched ${depth} more commits of history to find ${what}${shallow ? '' : ' (history now complete)'}.`,
      );
      if (await satisfied()) return true;
      if (!shallow) return false;
      depth *= 2;
    }
    const failure = await this.fetch(['--no-tags', '--unshallow', this.remote]);
    this.shallowChecked = undefined;
    if (failure) this.log?.warning(`Could not fetch the complete history to find ${what}: ${failure}`);
    else this.log?.info(`Shallow clone: fetched the complete history to find ${what}.`);
    return satisfied();
  }

  /**
   * Fetch `refspecs` from the remote; in a shallow clone only `depth` commits of each (so a
   * later deepen moves every boundary together). Returns false, with a warning, on failure.
   */
  async fetchRefs(refspecs: readonly string[], depth?: number): Promise<boolean> {
    const args = ['--no-tags', '--no-recurse-submodules'];
    if (depth !== undefined) args.push(`--depth=${depth}`);
    const failure = await this.fetch([...args, this.remote, ...refspecs]);
    this.shallowChecked = undefined;
    if (failure) {
      this.log?.warning(`Could not fetch ${refspecs.join(' ')}: ${failure}`);
      return false;
    }
    this.log?.info(
      `Fetched ${refspecs.join(' ')} from ${this.remote}${depth !== undefined ? ` (depth ${depth})` : ''}.`,
    );
    return true;
  }

  /**
   * `git fetch --quiet <args>`, a network call: each attempt is killed after the fetch
   * timeout, and a failed attempt is retried twice with backoff unless the failure is one
   * another attempt cannot change (see fetchFailure). Returns null on success, else the
   * one-line cause of the last attempt.
   */
  private async fetch(args: readonly string[]): Promise<string | null> {
    const { timeoutMs, retryBaseMs } = fetchSettings();
    const full = ['fetch', '--quiet', ...args];
    let attempts = 0;
    let permanent = false;
    try {
      await retry(
        async () => {
          attempts++;
          const r = await fetchProcess(full, this.cwd, timeoutMs);
          if (r === 'timeout')
            throw new UserError(`git fetch from ${this.remote} timed out after ${Math.round(timeoutMs / 1000)} s`);
          if (r.code !== 0) {
            const failure = fetchFailure(r.stderr);
            permanent = failure.permanent;
            throw new UserError(
              `git fetch from ${this.remote} failed: ${failure.cause || `exit ${r.signal ?? r.code}`}`,
            );
          }
        },
        {
          attempts: FETCH_ATTEMPTS,
          baseDelayMs: retryBaseMs,
          retryable: (err) => err instanceof UserError && !permanent,
          onRetry: (err, attempt, delay) =>
            this.log?.info(
              `${(err as Error).message}; retrying in ${Math.round(delay)} ms (attempt ${attempt + 1} of ${FETCH_ATTEMPTS}).`,
            ),
        },
      );
      return null;
    } catch (err) {
      if (err instanceof UserError) return `${err.message} (${permanent ? 'not retried' : `${attempts} attempts`})`;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'git is not installed or not on PATH';
      throw err;
    }
  }

  /**
   * The object SHAs of many `paths` at `ref` (null for an absent path). One `git ls-tree`
   * lists each parent folder once: resolving each path on its own re-reads its parent's
   * tree every time (306 lookups in a 2,000-entry folder took 156 ms; one listing takes 4).
   */
  async objectHashes(ref: string, paths: readonly string[]): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>(paths.map((p) => [p, null]));
    if (!paths.length) return out;
    // Each path is found in a listing of its parent folder, one git call per folder depth: when
    // one pathspec is inside another (`libs/` and `libs/shared/`, or `libs` and `libs/`), git
    // shows the inner folder's contents instead of its entry. Depth 0 is the root's listing.
    const byDepth = new Map<number, Set<string>>();
    for (const p of paths) {
      const parent = p.includes('/') ? `${p.slice(0, p.lastIndexOf('/'))}/` : '';
      const depth = parent.split('/').length - 1;
      if (!byDepth.has(depth)) byDepth.set(depth, new Set());
      if (parent) byDepth.get(depth)!.add(parent);
    }
    const listings: string[][] = [];
    for (const folders of byDepth.values()) {
      const all = [...folders].sort();
      if (!all.length) listings.push([]);
      // Chunks keep the argument list far below the system's limit in a repository of many folders.
      for (let i = 0; i < all.length; i += 2_000) listings.push(all.slice(i, i + 2_000));
    }
    for (const specs of listings) {
      const r = await execFile('git', ['ls-tree', '-z', '--full-tree', ref, '--', ...specs], {
        cwd: this.cwd,
        env: { ...gitEnv(), GIT_LITERAL_PATHSPECS: '1' },
      });
      if (r.code !== 0)
        throw new UserError(`git ls-tree failed in ${this.cwd}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
      for (const rec of r.stdout.split('\0')) {
        const tab = rec.indexOf('\t');
        if (tab < 0) continue;
        const path = rec.slice(tab + 1);
        if (out.has(path)) out.set(path, rec.slice(0, tab).split(' ')[2]);
      }
    }
    return out;
  }

  /** The content hash (tree or blob SHA) of `path` at `ref`, or null when absent. */
  async objectHash(ref: string, path: string): Promise<string | null> {
    const out = await this.tryRun(['rev-parse', '--verify', '--quiet', `${ref}:${path}`]);
    return out ? out.trim() : null;
  }
}

/**
 * A commit message split as git splits it for `%s` and `%b`: the subject is the first
 * paragraph with its lines joined by a space (each line's trailing blanks dropped), the
 * body is what follows the blank lines after it, without trailing blanks.
 */
export function splitMessage(message: string): { subject: string; body: string } {
  const n = message.length;
  // Indices only, one slice per part: this runs for every commit of a long range.
  let pos = skipBlankLines(message, 0);
  let subject = '';
  while (pos < n) {
    const nl = message.indexOf('\n', pos);
    const end = nl < 0 ? n : nl;
    const e = trimEndAt(message, pos, end);
    if (e === pos) break;
    subject = subject ? `${subject} ${message.slice(pos, e)}` : message.slice(pos, e);
    pos = nl < 0 ? n : nl + 1;
  }
  pos = skipBlankLines(message, pos);
  const end = trimEndAt(message, pos, n);
  return { subject, body: end > pos ? message.slice(pos, end) : '' };
}

/** git's isspace: space, \t, \n, \v, \f, \r. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** The index where `s[from, to)` ends once trailing whitespace is dropped. */
function trimEndAt(s: string, from: number, to: number): number {
  while (to > from && isSpace(s.charCodeAt(to - 1))) to--;
  return to;
}

/** The start of the first line at or after `pos` that is not blank. */
function skipBlankLines(s: string, pos: number): number {
  while (pos < s.length) {
    const nl = s.indexOf('\n', pos);
    const end = nl < 0 ? s.length : nl;
    if (trimEndAt(s, pos, end) !== pos) break;
    pos = nl < 0 ? s.length : nl + 1;
  }
  return pos;
}

/**
 * The for-each-ref pattern of a tag glob. for-each-ref's `*` stops at a `/`, so
 * `refs/tags/*` misses `py/1.37.5`; a glob that is only stars becomes the prefix
 * `refs/tags/`, which matches every tag at any depth. A template's glob (`py/*`,
 * `@acme/web@*`) keeps its folders literal, and its one star stands for a version, which
 * never holds a `/`.
 */
function tagRefPattern(glob: string): string {
  return /^\**$/.test(glob) ? 'refs/tags/' : `refs/tags/${glob}`;
}

/**
 * The pathspecs git needs to select what the component's globs (picomatch's, as
 * build-selective matches them) select: `!x` is git's `:(exclude)` magic, and braces, which
 * git does not know, are expanded (`services/{a,b}/**` is two pathspecs).
 */
export function pathspecs(globs: readonly string[]): string[] {
  return globs.flatMap((g) => {
    const exclude = g.startsWith('!');
    return braces.expand(exclude ? g.slice(1) : g).map((p) => pathspec(p, exclude));
  });
}

/**
 * A literal pathspec unless the user wrote a glob. The commonest glob, a folder and all
 * below it (`sdk/python/**`), is the folder's plain prefix `sdk/python/`, which git
 * matches without the glob machinery: a path-limited log of 10,000 commits took 0.54 s
 * with `:(glob)s1/**` and 0.16 s with `s1/`, once per series.
 */
function pathspec(p: string, exclude: boolean): string {
  const folder = /^([^*?[\]\\:!]+)\/\*\*$/.exec(p);
  const magic = (words: string[]) => (words.length ? `:(${words.join(',')})` : '');
  if (folder && !folder[1].startsWith('/')) return `${magic(exclude ? ['exclude'] : [])}${folder[1]}/`;
  const glob = /[*?[]/.test(p);
  // A literal path starting with git's magic character needs magic of its own to stay literal.
  const words = [
    ...(exclude ? ['exclude'] : []),
    ...(glob ? ['glob'] : exclude || p.startsWith(':') ? ['literal'] : []),
  ];
  return `${magic(words)}${p}`;
}

// Whole-stderr patterns. Transient is tested first: ssh prints "Connection timed out" and
// then the same "Could not read from remote repository." as for a refused key.
const TRANSIENT_FETCH =
  /timed out|timeout|connection reset|reset by peer|early EOF|hung up unexpectedly|(returned error|HTTP):? (5\d\d|429)\b|temporarily unavailable/i;
const PERMANENT_FETCH =
  /does not appear to be a git repository|repository .*not found|authentication failed|could not read from remote repository|could not read (username|password)|permission denied|returned error: 40[134]\b|couldn't find remote ref|not our ref/i;
// git's closing line after a transport failure: true of every transport, so it names none.
const GENERIC_FATAL = /^fatal: could not read from remote repository\.?$/i;

/**
 * What a failed `git fetch` says, in one line, and whether another attempt could change it.
 * The cause is git's first `fatal:` line (git follows it with a hint paragraph whose last
 * line, "and the repository exists.", names nothing); where the only one is the generic
 * "Could not read from remote repository.", the transport's line before it (ssh's
 * "Permission denied (publickey)."); else the last non-empty line. Timeouts, resets and
 * 5xx answers are transient; a missing repository, refused credentials or a missing ref are
 * permanent; anything else is retried.
 */
export function fetchFailure(stderr: string): { cause: string; permanent: boolean } {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const generic = lines.findIndex((l) => GENERIC_FATAL.test(l));
  const line =
    lines.find((l) => l.startsWith('fatal: ') && !GENERIC_FATAL.test(l)) ??
    (generic >= 0 ? lines[Math.max(0, generic - 1)] : lines.at(-1)) ??
    '';
  return {
    cause: line.replace(/^(fatal|error): /, ''),
    permanent: !TRANSIENT_FETCH.test(stderr) && PERMANENT_FETCH.test(stderr),
  };
}

/** A fetch is tried this many times: the first attempt and two retries. */
const FETCH_ATTEMPTS = 3;

/**
 * How long one fetch attempt may take, and the backoff unit between attempts:
 * SLIPWAY_GIT_FETCH_TIMEOUT_MS (default 120 000) and SLIPWAY_RETRY_BASE_MS (default 1000),
 * which the tests shorten.
 */
function fetchSettings(): { timeoutMs: number; retryBaseMs: number } {
  const num = (name: string, fallback: number) => {
    const n = Number(process.env[name]);
    return process.env[name] && Number.isFinite(n) && n > 0 ? n : fallback;
  };
  return { timeoutMs: num('SLIPWAY_GIT_FETCH_TIMEOUT_MS', 120_000), retryBaseMs: num('SLIPWAY_RETRY_BASE_MS', 1000) };
}

/**
 * Run one git fetch, killed after `timeoutMs`. git hands the transfer to a helper
 * (git-remote-http, ssh) that inherits its pipes, so killing git alone would leave the
 * attempt hanging: the fetch gets a process group of its own, and the whole group is killed.
 */
function fetchProcess(
  args: readonly string[],
  cwd: string,
  timeoutMs: number,
): Promise<{ code: number; signal: NodeJS.Signals | null; stderr: string } | 'timeout'> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, env: gitEnv(), stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve(timedOut ? 'timeout' : { code: code ?? -1, signal, stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** git's environment: never prompt, never page, stable output. */
function gitEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat', LC_ALL: 'C' };
}
