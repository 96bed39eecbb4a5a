/**
 * The deployment record of the CLI and the demo: `.slipway/deployments.json` in the
 * repository. Every read-modify-write happens under an exclusive lock file (created with
 * O_EXCL, so only one process wins), and the environment lock is an entry in the ledger
 * in state `in_progress`, exactly as with GitHub Deployments.
 */
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { UserError } from '../../core/errors.js';
import { duration } from '../../core/markdown.js';
import { sleep } from '../../core/retry.js';
import { waitForLock, type LockLook } from './lock-wait.js';
import {
  describeHolder,
  holdsLock,
  type BeginRequest,
  type DeploymentEntry,
  type DeploymentRecord,
  type FinishRequest,
  type HeartbeatRequest,
  type LockOptions,
} from './record.js';

/** The ledger's location inside the repository. */
export const LEDGER_PATH = '.slipway/deployments.json';

/** A ledger mutation takes milliseconds; a lock file this old was left by a crashed process. */
const MUTEX_STALE_MS = 30_000;

interface LedgerFile {
  version: 1;
  nextId: number;
  deployments: DeploymentEntry[];
}

/** A JSON ledger of deployments with the same lock semantics as GitHub Deployments. */
export class FileLedger implements DeploymentRecord {
  readonly file: string;
  readonly name: string;
  private readonly now: () => Date;

  constructor(cwd: string, options: { file?: string; now?: () => Date } = {}) {
    this.file = path.resolve(cwd, options.file ?? LEDGER_PATH);
    this.name = `the ledger ${path.relative(cwd, this.file) || this.file}`;
    this.now = options.now ?? (() => new Date());
  }

  /** The environment's deployments, newest first. */
  async history(environment: string): Promise<DeploymentEntry[]> {
    const ledger = await this.read();
    return ledger.deployments.filter((d) => d.environment === environment).reverse();
  }

  /** Wait until no fresh deployment of the environment is in progress, then record this one. */
  async begin(request: BeginRequest, lock: LockOptions): Promise<DeploymentEntry> {
    const started = Date.now();
    const look = (): Promise<LockLook<DeploymentEntry>> =>
      this.mutate((ledger) => {
        const nowIso = this.now().toISOString();
        let holder: DeploymentEntry | undefined;
        for (const d of ledger.deployments) {
          if (d.environment !== request.environment || !holdsLock(d.state)) continue;
          const age = this.now().getTime() - Date.parse(d.updatedAt);
          if (age > lock.ttlMs) {
            lock.log.warning(
              `Deployment ${describeHolder(d)} to ${d.environment} has held the lock for ${duration(age)}, more than lock-ttl: marking it error and going on.`,
            );
            d.state = 'error';
            d.description = `stale: no progress for ${duration(age)}; taken over by ${request.creator}`;
            d.updatedAt = nowIso;
          } else holder ??= d;
        }
        if (holder) return { holder };
        const entry: DeploymentEntry = {
          id: String(ledger.nextId++),
          ...request,
          state: 'in_progress',
          createdAt: nowIso,
          updatedAt: nowIso,
        };
        ledger.deployments.push(entry);
        return { free: entry };
      });
    return waitForLock(look, {
      environment: request.environment,
      lock,
      firstDelayMs: 250,
      maxDelayMs: 5_000,
      elapsed: () => Date.now() - started,
    });
  }

  /** Refresh the timestamp of a deployment still in progress. */
  async heartbeat(id: string, _request: HeartbeatRequest): Promise<boolean> {
    return this.mutate((ledger) => {
      const entry = ledger.deployments.find((d) => d.id === id);
      if (!entry || entry.state !== 'in_progress') return false;
      entry.updatedAt = this.now().toISOString();
      return true;
    });
  }

  /** Move a deployment to its final state. */
  async finish(id: string, request: FinishRequest): Promise<void> {
    await this.mutate((ledger) => {
      const entry = ledger.deployments.find((d) => d.id === id);
      if (!entry) throw new UserError(`${this.name}: deployment #${id} is missing (was the ledger edited?)`);
      entry.state = request.state;
      entry.description = request.description;
      if (request.environmentUrl) entry.environmentUrl = request.environmentUrl;
      if (request.logUrl) entry.logUrl = request.logUrl;
      entry.updatedAt = this.now().toISOString();
    });
  }

  private async read(): Promise<LedgerFile> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, nextId: 1, deployments: [] };
      throw err;
    }
    try {
      const parsed = JSON.parse(text) as LedgerFile;
      if (!Array.isArray(parsed.deployments)) throw new Error('no deployments list');
      return parsed;
    } catch (err) {
      throw new UserError(`${this.name}: not a deployment ledger (${(err as Error).message}); fix or delete the file`);
    }
  }

  /** Read, change and write the ledger while holding the exclusive lock file. */
  private async mutate<T>(change: (ledger: LedgerFile) => T): Promise<T> {
    await mkdir(path.dirname(this.file), { recursive: true });
    const release = await this.lockFile();
    try {
      const ledger = await this.read();
      const result = change(ledger);
      const tmp = `${this.file}.${process.pid}.tmp`;
      await writeFile(tmp, `${JSON.stringify(ledger, null, 2)}\n`);
      // rename is atomic: a reader sees the old ledger or the new one, never half of one.
      await rename(tmp, this.file);
      return result;
    } finally {
      await release();
    }
  }

  private async lockFile(): Promise<() => Promise<void>> {
    const lockPath = `${this.file}.lock`;
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(lockPath, 'wx');
        await handle.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString() }));
        await handle.close();
        return () => rm(lockPath, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const info = await stat(lockPath).catch(() => null);
      if (info && Date.now() - info.mtimeMs > MUTEX_STALE_MS) {
        await rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() - started > 2 * MUTEX_STALE_MS)
        throw new UserError(`${this.name}: cannot take ${lockPath} (another process keeps it)`);
      await sleep(Math.min(5 * 2 ** attempt, 100) + Math.random() * 10);
    }
  }
}
