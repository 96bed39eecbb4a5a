/**
 * `target: release`, as Capistrano does it: each version is a folder under `path/releases/`,
 * `path/current` is a symlink to one of them, and the switch is atomic (a new link renamed
 * over `current` with `mv -T`), so a reader never finds `current` missing. An upload lands
 * under a temporary name and is renamed only when complete. Releases are kept by the order
 * they were deployed (a log on the host, never modification times, which tar sets from the
 * archive), and `current` and the last good release are never pruned. Rollback switches
 * back, after checking the release is still there.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { CancelledError } from '../../core/cancel.js';
import { execFile } from '../../core/exec.js';
import { slipwayEnv } from './command.js';
import { fileInput, openHost, sshSettings, stderrCause, type Host } from './host.js';
import { TargetError, unchangedError, type DeployTarget, type TargetContext, type TargetOptions } from './target.js';

/** Releases kept by default. */
const DEFAULT_KEEP = 5;

/** The deploy log on the host: one version per line, in the order they went live. */
const LOG = '.slipway-releases.log';

/** How long one step on the host may take. */
const STEP_TIMEOUT_MS = 600_000;

// Each script is fixed text; the values arrive as its positional arguments ("$1"...).
/**
 * Create path/releases when missing (a first deploy, as Capistrano does; exit 4 when it
 * cannot be made), receive a .tar.gz on stdin into releases/<tmp>, then rename it to
 * releases/<version> (kept when it exists).
 */
const RECEIVE = `set -eu
mkdir -p "$1/releases" || exit 4
cd "$1"; tmp="releases/.incoming-$2-$$"
rm -rf "$tmp"; mkdir "$tmp"
tar -xzf - -C "$tmp"
if [ -d "releases/$2" ]; then rm -rf "$tmp"; echo kept; else mv -T "$tmp" "releases/$2"; echo received; fi`;

/** Point current at releases/<version> atomically and log it; exit 3 when that release is missing. */
const SWITCH = `set -eu
cd "$1"
[ -d "releases/$2" ] || { readlink current 2>/dev/null || true; exit 3; }
ln -sfn "releases/$2" ".current-$$"
mv -T ".current-$$" current
echo "$2" >> ${LOG}`;

/** The deploy log, a separator, and the release folders. */
const LIST = `cd "$1" 2>/dev/null || exit 0
cat ${LOG} 2>/dev/null || true
echo ---
ls -1 releases 2>/dev/null || true`;

/** Remove releases/<each argument after the first>. */
const PRUNE = `set -eu
cd "$1"; shift
for v in "$@"; do rm -rf "releases/$v"; done`;

/** A version fit to be a folder name. */
function releaseName(version: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(version))
    throw new TargetError(`version ${JSON.stringify(version)} cannot name a release folder (letters, digits, . _ + -)`);
  return version;
}

/** Which releases to delete: all but the `keep` most recently deployed, never the protected ones. */
export function releasesToPrune(log: string[], present: string[], keep: number, protect: string[]): string[] {
  const order: string[] = [];
  for (const v of [...log].reverse()) if (!order.includes(v)) order.push(v);
  const kept = new Set(protect.filter((p) => present.includes(p)));
  for (const v of order) {
    if (kept.size >= keep) break;
    if (present.includes(v)) kept.add(v);
  }
  return present.filter((v) => !kept.has(v) && !v.startsWith('.'));
}

/**
 * The artifact as a .tar.gz file: the file itself, or the folder packed by `tar` into a
 * private temporary folder first, so a failure to pack is reported as such (with tar's own
 * words) before anything reaches the host. `done` removes what was packed.
 */
async function artifactArchive(cwd: string, artifact: string): Promise<{ file: string; done: () => Promise<void> }> {
  const abs = path.resolve(cwd, artifact);
  const info = await stat(abs).catch(() => null);
  if (!info)
    throw new TargetError(`artifact ${artifact} does not exist (expected the folder or .tar.gz the build left)`);
  if (info.isFile()) return { file: abs, done: async () => undefined };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'slipway-release-'));
  const file = path.join(dir, 'release.tar.gz');
  const r = await execFile('tar', ['-czf', file, '-C', abs, '.'], { timeoutMs: STEP_TIMEOUT_MS });
  if (r.code !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new TargetError(
      `packing ${artifact} failed: ${r.stderr.trim().split('\n').pop() ?? `tar exited with ${r.code}`}`,
    );
  }
  return { file, done: () => rm(dir, { recursive: true, force: true }) };
}

/** Build the release target of a component. */
export function releaseTarget(options: TargetOptions): DeployTarget {
  const { deploy } = options;
  const appPath = deploy.path;
  if (typeof appPath !== 'string' || !appPath.startsWith('/'))
    throw options.errorAt('path', 'a release target needs "path", the absolute application folder on the host');
  const artifact = deploy.artifact;
  if (typeof artifact !== 'string' || !artifact)
    throw options.errorAt('artifact', 'a release target needs "artifact", the folder or .tar.gz the build left');
  const keep = deploy.keep === undefined ? DEFAULT_KEEP : deploy.keep;
  if (typeof keep !== 'number' || !Number.isInteger(keep) || keep < 2)
    throw options.errorAt('keep', `expected a whole number of releases, at least 2, got ${JSON.stringify(keep)}`);
  const activate = deploy.activate;
  if (activate !== undefined && typeof activate !== 'string')
    throw options.errorAt('activate', 'expected a command line');
  const ssh = sshSettings(options);

  /** Run a fixed script on the host with the given arguments. */
  const script = (host: Host, text: string, args: string[], input?: () => Readable) =>
    host.run(['sh', '-c', text, 'sh', ...args], { input, timeoutMs: STEP_TIMEOUT_MS });

  const failed = (host: Host, what: string, r: { code: number; stderr: string }) =>
    new TargetError(
      `${what} on ${host.where} failed (exit ${r.code})${r.stderr.trim() ? `: ${stderrCause(r.stderr)}` : ''}`,
    );

  /** Point `current` at `version` (then activate it); `progress.switched` once `current` moved. */
  const switchTo = async (host: Host, version: string, ctx: TargetContext, progress: { switched: boolean }) => {
    const r = await script(host, SWITCH, [appPath, version]);
    if (r.code === 3)
      throw new TargetError(
        `release ${version} is not in ${appPath}/releases on ${host.where} (pruned?); current still points at ${path.basename(r.stdout.trim()) || 'nothing'}`,
      );
    if (r.code !== 0) throw failed(host, `switching ${appPath}/current to ${version}`, r);
    progress.switched = true;
    ctx.onLine(`current → releases/${version} on ${host.where}`);
    if (activate) {
      const dir = `${appPath}/releases/${version}`;
      const a = await host.run(['sh', '-c', `cd "$1" && exec sh -c "$2"`, 'sh', dir, activate], {
        env: slipwayEnv(ctx),
        timeoutMs: STEP_TIMEOUT_MS,
        onLine: ctx.onLine,
      });
      if (a.code !== 0) throw failed(host, 'the activate command', a);
    }
  };

  const prune = async (host: Host, protect: string[], ctx: TargetContext) => {
    const r = await script(host, LIST, [appPath]);
    const [log, present] = r.stdout.split('---\n').map((part) => part.split('\n').filter(Boolean));
    const gone = releasesToPrune(log ?? [], present ?? [], keep, protect.filter(Boolean));
    if (!gone.length) return;
    const p = await script(host, PRUNE, [appPath, ...gone]);
    // The new release is live: old ones left behind are worth a warning, not a rollback.
    if (p.code !== 0) return ctx.onLine(`warning: ${failed(host, 'pruning old releases', p).message}`);
    ctx.onLine(`pruned ${gone.join(', ')} (keeping ${keep})`);
  };

  const withHost = async <T>(ctx: TargetContext, fn: (host: Host) => Promise<T>): Promise<T> => {
    const host = await openHost(ssh, ctx.runtime.env);
    try {
      return await fn(host);
    } finally {
      await host.close();
    }
  };

  /** Run `fn`; a failure before `current` moved left the old release live (nothing to roll back). */
  const moving = async (ctx: TargetContext, fn: (host: Host, progress: { switched: boolean }) => Promise<void>) => {
    const progress = { switched: false };
    try {
      await withHost(ctx, (host) => fn(host, progress));
    } catch (err) {
      if (!progress.switched && !(err instanceof CancelledError)) throw unchangedError(err);
      throw err;
    }
  };

  return {
    kind: 'release',
    deploy: (ctx) =>
      moving(ctx, async (host, progress) => {
        const version = releaseName(ctx.version);
        const archive = await artifactArchive(ctx.cwd, artifact);
        const r = await script(host, RECEIVE, [appPath, version], fileInput(archive.file)).finally(archive.done);
        if (r.code === 4)
          throw new TargetError(
            `path ${appPath} could not be created on ${host.where}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').pop()}` : ''} (expected a folder the deploy user may create or write)`,
          );
        if (r.code !== 0) throw failed(host, `uploading ${artifact} as release ${version}`, r);
        ctx.onLine(
          `${r.stdout.trim() === 'kept' ? 'kept the existing' : 'uploaded'} releases/${version} on ${host.where}`,
        );
        await switchTo(host, version, ctx, progress);
        // The release now live and the last good one (what a rollback returns to) are never pruned.
        await prune(host, [version, ctx.previousVersion], ctx);
      }),
    rollback: (ctx) => moving(ctx, (host, progress) => switchTo(host, releaseName(ctx.version), ctx, progress)),
    status: (ctx) =>
      withHost(ctx, async (host) => {
        const r = await host.run(['readlink', `${appPath}/current`]);
        return r.code === 0 && r.stdout.trim() ? path.basename(r.stdout.trim()) : null;
      }),
    // A rollback switches to a release folder that pruning may have removed: said before it runs.
    preflight: (ctx, mode) =>
      mode !== 'rollback'
        ? Promise.resolve(null)
        : withHost(ctx, async (host) => {
            const version = releaseName(ctx.version);
            const r = await host.run(['test', '-d', `${appPath}/releases/${version}`]);
            return r.code === 0 ? null : `release ${version} is not in ${appPath}/releases on ${host.where} (pruned?)`;
          }),
    describe() {
      const where = ssh ? `${ssh.user}@${ssh.host}:${ssh.port}` : 'this machine';
      return {
        run: `upload ${artifact} to ${appPath}/releases/<version> on ${where}, switch ${appPath}/current to it${activate ? `, then ${activate}` : ''}; keep ${keep}`,
        rollback: `switch ${appPath}/current back to the last good release${activate ? `, then ${activate}` : ''} (nothing uploaded)`,
        status: `readlink ${appPath}/current`,
      };
    },
  };
}
