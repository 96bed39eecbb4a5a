/**
 * `target: nginx`: blue-green and canary behind nginx, as kamal-proxy and Argo Rollouts do it.
 * The new version starts on the idle slot and must pass the component's health checks there
 * before any traffic moves; a failure stops it and traffic never reaches it. Traffic moves by
 * one of two switches:
 * - `socket` (default): nginx proxies to a Unix-socket symlink (`link`), swapped atomically.
 *   No reload, so no connection is dropped; the upstream must not pool connections
 *   (`keepalive`), which would keep talking to the old slot.
 * - `reload`: the included `upstream` file is rewritten (a split_clients between the slots,
 *   so a canary takes a share), checked with `nginx -t` (the previous file is kept when it
 *   fails), and nginx reloaded; the old slot is stopped only once every worker that existed
 *   before the reload has exited (`nginx -s reload` returns before it takes effect).
 * The old slot serves in-flight requests for `drain` seconds, then is stopped. Which slot is
 * live, and what each runs, is kept in a small state file next to the link or upstream file.
 */
import { Readable } from 'node:stream';
import { CancelledError, isCancelled, onCancel } from '../../core/cancel.js';
import { errorMessage } from '../../core/errors.js';
import { duration } from '../../core/markdown.js';
import { sleep } from '../../core/retry.js';
import { addressBaseUrl } from '../../checks/probes/http.js';
import { slipwayEnv } from './command.js';
import { openHost, sshSettings, stderrCause, type Host } from './host.js';
import { configFiles, pooledUpstreams } from './nginx-config.js';
import { TargetError, unchangedError, type DeployTarget, type TargetContext, type TargetOptions } from './target.js';

type Slot = 'blue' | 'green';
const SLOTS: readonly Slot[] = ['blue', 'green'];
const other = (s: Slot): Slot => (s === 'blue' ? 'green' : 'blue');

/** What the host keeps: the live slot and the version each slot runs (null: stopped). */
interface SlotState {
  live: Slot | null;
  blue: string | null;
  green: string | null;
}

/** One canary step: the canary's share of requests, and how long it holds there. */
interface CanaryStep {
  weight: number;
  holdS: number;
}

/** When a canary is aborted. */
interface Abort {
  maxErrorRate: number;
  minRequests: number;
  accessLog: string;
}

const STEP_TIMEOUT_MS = 300_000;
/** How long old workers may take to finish after a reload beyond the drain time. */
const WORKER_EXIT_GRACE_MS = 60_000;

/**
 * The reload switch as one host command (one round trip over SSH, one process here): note the
 * master's workers (from /proc, its children file where the kernel has one, else every
 * process's stat: no ps or pgrep needed), keep the previous upstream file (a hard link where
 * the file system allows one: the rename below leaves it the old file), put the new one
 * (stdin) in place, test with `nginx -t` (the previous file back when it fails), and send the
 * master HUP, which is what `nginx -s reload` does without parsing the whole configuration a
 * second time. The master then starts new workers and waits 100 ms before it tells the old
 * ones to stop (ngx_master_process_cycle's "allow new processes to start"), and until then
 * the old workers still accept most new connections on the old configuration; so once as many
 * new workers wait in epoll (accepting; /proc/PID/wchan, polled about every millisecond), or
 * have run for about 40 ms where that cannot be read, the old ones get QUIT here: the
 * graceful shutdown nginx documents for a worker and sends them itself 100 ms later; they
 * accept nothing new and finish what they serve. No margin is needed: the listening socket
 * belongs to the master, so a connection that arrives before a new worker accepts waits in
 * its backlog. No new worker within about a second (the master refused the configuration)
 * leaves the old ones alone. Prints the workers that existed before.
 * $1 the upstream file, $2 nginx's pid file, $3… the `nginx -t` command.
 * Exit 3: no master pid; 4: nginx -t refused (its output on stderr); 5: cannot write; 6: HUP failed.
 */
const RELOAD = `up=$1; pidfile=$2; shift 2
read -r m < "$pidfile" || exit 3
workers() {
  if [ -r "/proc/$m/task/$m/children" ]; then
    read -r c < "/proc/$m/task/$m/children"
    for p in $c; do echo "$p"; done
    return
  fi
  for d in /proc/[0-9]*; do
    read -r s < "$d/stat" 2>/dev/null || continue
    set -- $s
    [ "$4" = "$m" ] && echo "\${d#/proc/}"
  done
}
before=$(workers)
old=
want=0
for p in $before; do old="$old $p"; want=$((want + 1)); done
had=0
if [ -f "$up" ]; then { ln -f "$up" "$up.slipway-prev" 2>/dev/null || cp -p "$up" "$up.slipway-prev"; } || exit 5; had=1; fi
{ cat > "$up.slipway-tmp" && mv -f "$up.slipway-tmp" "$up"; } || exit 5
if ! out=$("$@" 2>&1); then
  [ $had = 1 ] && mv -f "$up.slipway-prev" "$up"
  printf '%s\n' "$out" >&2
  exit 4
fi
kill -HUP "$m" || exit 6
i=0
since=0
while [ -n "$old" ] && [ $i -lt 500 ]; do
  new=0
  ready=0
  for p in $(workers); do
    case " $old " in *" $p "*) continue ;; esac
    new=$((new + 1))
    w=; read -r w < "/proc/$p/wchan" 2>/dev/null
    case "$w" in *epoll*) ready=$((ready + 1)) ;; esac
  done
  [ $new -ge $want ] && since=$((since + 1))
  if [ $ready -ge $want ] || [ $since -gt 20 ]; then kill -QUIT $old 2>/dev/null; break; fi
  sleep 0.001
  i=$((i + 1))
done
rm -f "$up.slipway-prev"
printf '%s\n' "$before"`;

/** Which of the given PIDs still exist. */
const ALIVE = `for p in "$@"; do kill -0 "$p" 2>/dev/null && echo "$p"; done; exit 0`;

/** The access log's size, then (with an offset) what was written after it. */
const LOG_SIZE = `wc -c < "$1" 2>/dev/null || echo 0`;
const LOG_SINCE = `tail -c "+$(($2 + 1))" "$1" 2>/dev/null || true`;

/** What a request's slot is chosen by: each request on its own (`$remote_addr` makes a client sticky). */
const DEFAULT_SPLIT_ON = '${request_id}';

/** The split_clients file for the canary's share (0 and 100 written alone: nginx refuses 0%). */
export function upstreamFile(
  name: string,
  slots: Record<Slot, string>,
  stable: Slot,
  canaryWeight: number,
  splitOn = DEFAULT_SPLIT_ON,
): string {
  const canary = other(stable);
  const up = (s: Slot) => `${name}_${s}`;
  const lines = [
    ...SLOTS.map((s) => `upstream ${up(s)} {\n    server ${slots[s]};\n}`),
    `split_clients "${splitOn}" $${name} {`,
  ];
  if (canaryWeight >= 100) lines.push(`    * ${up(canary)};`);
  else if (canaryWeight <= 0) lines.push(`    * ${up(stable)};`);
  else lines.push(`    ${canaryWeight}% ${up(canary)};`, `    * ${up(stable)};`);
  lines.push('}', '');
  return lines.join('\n');
}

/** Build the nginx target of a component. */
export function nginxTarget(options: TargetOptions): DeployTarget {
  const { deploy, component } = options;
  const err = options.errorAt;
  const slotsRaw = deploy.slots as Record<string, unknown> | undefined;
  if (
    !slotsRaw ||
    typeof slotsRaw !== 'object' ||
    typeof slotsRaw.blue !== 'string' ||
    typeof slotsRaw.green !== 'string'
  )
    throw err('slots', 'expected { blue: ADDRESS, green: ADDRESS }, each host:port or unix:/path.sock');
  const slots: Record<Slot, string> = { blue: slotsRaw.blue, green: slotsRaw.green };
  for (const s of SLOTS)
    if (!/^unix:\/\S+$|^[A-Za-z0-9.-]+:\d+$|^\[[0-9a-fA-F:]+\]:\d+$/.test(slots[s]))
      throw err('slots', `${s}: expected host:port or unix:/path.sock, got ${JSON.stringify(slots[s])}`);
  if (typeof deploy.start !== 'string' || typeof deploy.stop !== 'string')
    throw err(
      typeof deploy.start !== 'string' ? 'start' : 'stop',
      'an nginx target needs "start" and "stop" commands (they get SLIPWAY_SLOT and SLIPWAY_SLOT_ADDRESS)',
    );
  const start = deploy.start;
  const stop = deploy.stop;
  const mode = deploy.switch ?? 'socket';
  if (mode !== 'socket' && mode !== 'reload')
    throw err('switch', `expected socket or reload, got ${JSON.stringify(mode)}`);
  const drainS = deploy.drain ?? 30;
  if (typeof drainS !== 'number' || drainS < 0) throw err('drain', 'expected a number of seconds, 0 or more');
  const config = deploy.config;
  if (config !== undefined && (typeof config !== 'string' || !config.startsWith('/')))
    throw err('config', 'expected the absolute path of the nginx configuration file');
  let link = '';
  let upstream = '';
  if (mode === 'socket') {
    if (typeof deploy.link !== 'string' || !deploy.link.startsWith('/'))
      throw err('link', 'the socket switch needs "link": the absolute path of the socket symlink nginx proxies to');
    link = deploy.link;
    for (const s of SLOTS)
      if (!slots[s].startsWith('unix:')) throw err('slots', `${s}: the socket switch needs unix:/path.sock addresses`);
  } else {
    if (typeof deploy.upstream !== 'string' || !deploy.upstream.startsWith('/'))
      throw err('upstream', 'the reload switch needs "upstream": the absolute path of the file nginx includes');
    if (!config) throw err('config', 'the reload switch needs "config", to test and reload nginx');
    upstream = deploy.upstream;
  }
  const name = `slipway_${component.name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const strategy = deploy.strategy ?? 'blue-green';
  if (strategy !== 'blue-green' && strategy !== 'canary')
    throw err('strategy', `expected blue-green or canary, got ${JSON.stringify(strategy)}`);
  let steps: CanaryStep[] = [];
  let abort: Abort | null = null;
  // Canary keys on a blue-green target would be ignored: a deploy meant to go 10 % at a time would go all at once.
  for (const key of ['steps', 'abort'] as const)
    if (strategy !== 'canary' && deploy[key] !== undefined)
      throw err(
        key,
        `only read by strategy: canary (this target is blue-green: add strategy: canary, or remove ${key})`,
      );
  if (strategy === 'canary') {
    if (mode !== 'reload') throw err('switch', 'a canary needs switch: reload (traffic is split by weight)');
    if (!Array.isArray(deploy.steps) || deploy.steps.length === 0)
      throw err('steps', 'a canary needs steps: [{ weight: 10, hold: 30 }, …]');
    steps = (deploy.steps as unknown[]).map((raw, i) => {
      const s = raw as { weight?: unknown; hold?: unknown };
      if (typeof s.weight !== 'number' || s.weight < 0 || s.weight > 100)
        throw err('steps', `step ${i + 1}: weight must be a percentage from 0 to 100`);
      if (s.hold !== undefined && (typeof s.hold !== 'number' || s.hold < 0))
        throw err('steps', `step ${i + 1}: hold must be a number of seconds`);
      return { weight: Math.round(s.weight), holdS: (s.hold as number | undefined) ?? 30 };
    });
    const a = deploy.abort as Record<string, unknown> | undefined;
    if (a !== undefined) {
      if (typeof a !== 'object' || typeof a.accessLog !== 'string' || typeof a.maxErrorRate !== 'number')
        throw err(
          'abort',
          'expected { maxErrorRate: 0.05, minRequests: 20, accessLog: /path } (log_format $upstream_addr $status)',
        );
      // A percentage written as 5 would never be exceeded: a canary failing every request would be promoted.
      if (a.maxErrorRate < 0 || a.maxErrorRate > 1)
        throw err('abort', `maxErrorRate: expected a fraction from 0 to 1 (0.05 is 5 %), got ${a.maxErrorRate}`);
      if (a.minRequests !== undefined && (!Number.isInteger(a.minRequests) || (a.minRequests as number) < 1))
        throw err(
          'abort',
          `minRequests: expected a whole number of requests, 1 or more, got ${JSON.stringify(a.minRequests)}`,
        );
      abort = {
        maxErrorRate: a.maxErrorRate,
        minRequests: typeof a.minRequests === 'number' ? a.minRequests : 20,
        accessLog: a.accessLog,
      };
    }
  }
  const splitOn = deploy.splitOn ?? DEFAULT_SPLIT_ON;
  if (typeof splitOn !== 'string' || !/^[^"\n]+$/.test(splitOn))
    throw err('splitOn', 'expected an nginx variable expression such as ${remote_addr}');
  const nginxBin = typeof deploy.nginx === 'string' ? deploy.nginx : 'nginx';
  const prefix = typeof deploy.prefix === 'string' ? ['-p', deploy.prefix] : [];
  const pidFile = typeof deploy.pid === 'string' ? deploy.pid : '';
  const stateFile = `${mode === 'socket' ? link : upstream}.slipway.json`;
  const ssh = sshSettings(options);

  const run = async (
    host: Host,
    what: string,
    argv: string[],
    ctx: TargetContext,
    env: Record<string, string> = {},
  ) => {
    const r = await host.run(argv, { env, timeoutMs: STEP_TIMEOUT_MS, onLine: ctx.onLine });
    if (r.code !== 0)
      throw new TargetError(
        `${what} on ${host.where} exited with ${r.code}${r.stderr.trim() ? `: ${ctx.runtime.redact(stderrCause(r.stderr))}` : ''}`,
      );
    return r.stdout;
  };
  const sh = (text: string, ...args: string[]) => ['sh', '-c', text, 'sh', ...args];
  const slotEnv = (ctx: TargetContext, slot: Slot, version: string) => ({
    ...slipwayEnv(ctx),
    SLIPWAY_VERSION: version,
    SLIPWAY_SLOT: slot,
    SLIPWAY_SLOT_ADDRESS: slots[slot],
  });

  const readState = async (host: Host): Promise<SlotState> => {
    const text = await host.readText(stateFile);
    if (text === null) return { live: null, blue: null, green: null };
    try {
      const s = JSON.parse(text) as SlotState;
      return { live: s.live ?? null, blue: s.blue ?? null, green: s.green ?? null };
    } catch {
      throw new TargetError(`${stateFile} on ${host.where} is not the state Slipway wrote; remove it to start afresh`);
    }
  };
  const writeState = async (host: Host, state: SlotState, ctx: TargetContext) => {
    await host.writeText(stateFile, JSON.stringify(state) + '\n');
    ctx.onLine(
      `live: ${state.live ?? 'none yet'} (blue ${state.blue ?? 'stopped'}, green ${state.green ?? 'stopped'})`,
    );
  };

  const startSlot = (host: Host, slot: Slot, version: string, ctx: TargetContext) =>
    run(host, `start (${slot})`, ['sh', '-c', start], ctx, slotEnv(ctx, slot, version));
  const stopSlot = (host: Host, slot: Slot, version: string, ctx: TargetContext) =>
    run(host, `stop (${slot})`, ['sh', '-c', stop], ctx, slotEnv(ctx, slot, version));

  /**
   * Refuse an upstream that pools connections to the link: with the socket switch they would
   * stay on the old slot. Read as nginx reads it (`nginx -T`, includes too); when nginx cannot
   * dump it here, the named file alone, saying so.
   */
  const checkNoKeepalive = async (host: Host, ctx: TargetContext) => {
    if (!config || mode !== 'socket') return;
    const dump = await host.run([nginxBin, ...prefix, '-T', '-c', config], { timeoutMs: STEP_TIMEOUT_MS });
    let files = dump.code === 0 ? configFiles(dump.stdout) : [];
    if (!files.length) {
      const text = await host.readText(config);
      if (text === null) throw new TargetError(`cannot read the nginx configuration ${config} on ${host.where}`);
      const why = ctx.runtime.redact(dump.stderr.trim().split('\n').pop() ?? '') || `exit ${dump.code}`;
      ctx.onLine(`nginx -T could not read the configuration (${why}): checked ${config} alone, not its includes`);
      files = [{ path: config, text }];
    }
    const [pooled] = pooledUpstreams(files, link);
    if (pooled)
      throw new TargetError(
        `${pooled.file}:${pooled.line}: "keepalive" in upstream ${pooled.name}, which sends to ${link}, keeps pooled connections on the old slot after a socket switch; remove it (or use switch: reload)`,
      );
  };

  // nginx's pid file, read from its configuration once per target (it does not move between steps).
  let pidPath: Promise<string> | undefined;
  const nginxPidFile = async (host: Host): Promise<string> => {
    const text = await host.readText(config!);
    if (text === null) throw new TargetError(`cannot read the nginx configuration ${config} on ${host.where}`);
    const m = /^[ \t]*pid[ \t]+([^;\s]+)[ \t]*;/m.exec(text);
    if (!m) throw new TargetError(`no "pid" directive in ${config}: set deploy.pid to nginx's pid file`);
    return m[1];
  };

  /**
   * The reload switch signals a running master: without one (nginx not started, the upstream
   * file it includes not written yet) the run would start and check the new slot, then fail.
   */
  const checkMaster = async (host: Host) => {
    if (mode !== 'reload') return;
    const pid = pidFile || (await (pidPath ??= nginxPidFile(host)));
    const r = await host.run(['sh', '-c', 'kill -0 "$(cat "$1")"', 'sh', pid], { timeoutMs: STEP_TIMEOUT_MS });
    if (r.code !== 0)
      throw new TargetError(
        `no nginx master runs with the pid in ${pid} on ${host.where} (the reload switch reloads a running nginx: start it first, with ${upstream} written once; see docs/deploy.md)`,
      );
  };

  // Whether this deploy or rollback has moved any traffic yet: before that, a failure leaves
  // the old version serving everything (unchanged, nothing to roll back).
  let moved = false;

  /**
   * Write the split (the previous file kept when nginx -t refuses it), reload, and wait for the
   * old workers (not with `wait: false`: a cancelled run has seconds, and stops nothing after).
   */
  const applySplit = async (host: Host, stable: Slot, canaryWeight: number, ctx: TargetContext, wait = true) => {
    const pid = pidFile || (await (pidPath ??= nginxPidFile(host)));
    const text = upstreamFile(name, slots, stable, canaryWeight, splitOn);
    const r = await host.run(sh(RELOAD, upstream, pid, nginxBin, '-t', '-q', ...prefix, '-c', config!), {
      input: () => Readable.from([text]),
      timeoutMs: STEP_TIMEOUT_MS,
      cleanup: !wait,
    });
    // nginx -t's cause is its [emerg] line; its last line only says the test failed.
    const lines = r.stderr.trim().split('\n');
    const why = lines.find((l) => l.includes('[emerg]')) ?? lines.pop() ?? '';
    if (r.code === 3) throw new TargetError(`cannot read the nginx master's pid from ${pid} on ${host.where}`);
    // nginx -t tests the whole configuration: the [emerg] line may name another file.
    if (r.code === 4)
      throw new TargetError(
        `nginx -t ${why.includes(upstream) || !why.includes(' in /') ? `refused the new ${upstream}` : `failed with the new ${upstream} in place`} (the previous one is back): ${why}`,
      );
    if (r.code === 5) throw new TargetError(`cannot write ${upstream} on ${host.where}${why ? `: ${why}` : ''}`);
    if (r.code !== 0)
      throw new TargetError(`nginx reload on ${host.where} failed (exit ${r.code})${why ? `: ${why}` : ''}`);
    // nginx has the new split: the new slot gets traffic from now on (none when the weight is 0).
    moved = canaryWeight > 0;
    const before = wait ? r.stdout.split('\n').filter(Boolean) : [];
    const deadline = Date.now() + drainS * 1000 + WORKER_EXIT_GRACE_MS;
    let left = before;
    while (left.length) {
      const alive = await host.run(sh(ALIVE, ...left));
      left = alive.stdout.split('\n').filter(Boolean);
      if (!left.length) break;
      if (Date.now() > deadline)
        throw new TargetError(
          `nginx workers ${left.join(', ')} had not exited ${duration(drainS * 1000 + WORKER_EXIT_GRACE_MS)} after the reload`,
        );
      await sleep(100);
    }
    ctx.onLine(
      `nginx reloaded on ${host.where}: ${canaryWeight >= 100 ? `all traffic on ${other(stable)}` : canaryWeight <= 0 ? `all traffic on ${stable}` : `${canaryWeight}% on ${other(stable)}`}`,
    );
  };

  /** Move all traffic to `slot`. */
  const switchTo = async (host: Host, slot: Slot, ctx: TargetContext) => {
    if (mode === 'socket') {
      await host.relink(link, slots[slot].slice('unix:'.length));
      moved = true;
      ctx.onLine(`${link} → ${slot} on ${host.where}`);
    } else await applySplit(host, other(slot), 100, ctx);
  };

  /**
   * The idle slot's health, checked where the slot is: its address is the host's (a `unix:`
   * path on the host's disk, or host:port on its network), so over SSH the checks go through
   * the connection (a forwarded local socket); the failure names the slot, not that socket.
   */
  const slotHealth = async (host: Host, slot: Slot, ctx: TargetContext) => {
    const way = await host.reach(slots[slot]);
    try {
      if (way.address === slots[slot]) return await ctx.checkHealth(addressBaseUrl(way.address));
      const local = way.address.slice('unix:'.length);
      return await ctx.checkHealth(addressBaseUrl(way.address), (text) =>
        text
          .replaceAll(addressBaseUrl(way.address), addressBaseUrl(slots[slot]))
          .replaceAll(local, `${slots[slot]} (through ssh)`),
      );
    } finally {
      await way.close();
    }
  };

  /** Health-check a slot before traffic goes there; on failure stop it and say so. */
  const gate = async (host: Host, slot: Slot, version: string, live: Slot | null, ctx: TargetContext) => {
    const health = await slotHealth(host, slot, ctx);
    if (health.healthy) return;
    await stopSlot(host, slot, version, ctx).catch(() => undefined);
    throw new TargetError(
      `${version} on the idle slot ${slot} failed its health checks, so no traffic was moved to it${live ? ` (still on ${live})` : ''}: ${health.message ?? ''}`,
    );
  };

  /** After the switch: let the old slot finish what it serves, then stop it. */
  const retire = async (host: Host, state: SlotState, old: Slot | null, ctx: TargetContext) => {
    if (!old || !state[old]) return;
    // The reload switch already waited for the old workers; the socket switch waits here.
    if (mode === 'socket' && drainS > 0) {
      ctx.onLine(`draining ${old} for ${duration(drainS * 1000)}`);
      await sleep(drainS * 1000);
    }
    // The new version serves and is healthy: a stop that fails is worth a warning, not a
    // rollback. The state keeps the old slot's version, so the next deploy stops it first.
    try {
      await stopSlot(host, old, state[old]!, ctx);
    } catch (err) {
      ctx.onLine(`warning: ${errorMessage(err)}; ${state[old]} may still run on ${old} (the next deploy stops it)`);
      return;
    }
    state[old] = null;
    await writeState(host, state, ctx);
  };

  /** Canary steps on the idle slot; aborted to weight 0 when its error rate is too high. */
  const canary = async (host: Host, state: SlotState, slot: Slot, version: string, ctx: TargetContext) => {
    const stable = other(slot);
    // A cancelled run must not leave a share of the traffic on a canary nobody watches any more.
    // The canary keeps running, without traffic (stopping it could fail requests still in
    // flight there); the state says so, and the next deploy stops it.
    const back = onCancel(async () => {
      await applySplit(host, stable, 0, ctx, false);
      ctx.onLine(`cancelled: all traffic back on ${stable}; ${version} still runs on ${slot}, without traffic`);
    }, 'stop');
    try {
      await canarySteps(host, state, slot, version, ctx);
    } finally {
      back();
    }
  };

  const canarySteps = async (host: Host, state: SlotState, slot: Slot, version: string, ctx: TargetContext) => {
    const stable = other(slot);
    for (const step of steps) {
      if (isCancelled()) throw new CancelledError(`the canary's ${step.weight}% step`);
      const offset = abort ? Number((await host.run(sh(LOG_SIZE, abort.accessLog))).stdout.trim()) || 0 : 0;
      if (isCancelled()) throw new CancelledError(`the canary's ${step.weight}% step`);
      await applySplit(host, stable, step.weight, ctx);
      ctx.onLine(`canary ${version} at ${step.weight}%, holding ${duration(step.holdS * 1000)}`);
      const until = Date.now() + step.holdS * 1000;
      while (Date.now() < until) {
        await sleep(Math.min(1000, Math.max(0, until - Date.now())));
        if (!abort) continue;
        const text = (await host.run(sh(LOG_SINCE, abort.accessLog, String(offset)))).stdout;
        const mine = text.split('\n').filter((l) => l.split(' ')[0]?.includes(slots[slot]));
        const errors = mine.filter((l) => /^5\d\d$/.test(l.split(' ')[1] ?? '')).length;
        if (mine.length >= abort.minRequests && errors / mine.length > abort.maxErrorRate) {
          await applySplit(host, stable, 0, ctx);
          await stopSlot(host, slot, version, ctx).catch(() => undefined);
          state[slot] = null;
          await writeState(host, state, ctx);
          throw new TargetError(
            `canary ${version} aborted at ${step.weight}%: ${errors} of ${mine.length} requests failed (${Math.round((errors / mine.length) * 100)}%, more than ${Math.round(abort.maxErrorRate * 100)}%); all traffic back on ${stable}`,
          );
        }
      }
    }
  };

  /** Put `version` live: reuse a slot already running it (a rollback), else start it on the idle slot first. */
  const goLive = async (ctx: TargetContext, version: string, reuse: boolean) => {
    moved = false;
    try {
      await goLiveOn(ctx, version, reuse);
    } catch (err) {
      // Before any traffic moved, the old version still serves everything: say so, so the run
      // neither reports the new version as running nor rolls back what never changed.
      if (!moved && !(err instanceof CancelledError)) throw unchangedError(err);
      throw err;
    }
  };

  const goLiveOn = async (ctx: TargetContext, version: string, reuse: boolean) => {
    const host = await openHost(ssh, ctx.runtime.env);
    try {
      // Checked side by side before anything starts: each is a round trip to the host.
      const [, state] = await Promise.all([checkNoKeepalive(host, ctx), readState(host), checkMaster(host)]);
      const live = state.live;
      // A rollback after a failed check on the idle slot, or an aborted canary: traffic never left.
      if (reuse && live && state[live] === version) {
        ctx.onLine(`${version} is live on ${live} already: traffic never left it`);
        return;
      }
      const running = reuse ? SLOTS.find((s) => s !== live && state[s] === version) : undefined;
      const slot: Slot = running ?? (live ? other(live) : 'blue');
      if (!running) {
        if (state[slot]) await stopSlot(host, slot, state[slot]!, ctx).catch(() => undefined);
        state[slot] = null;
        await startSlot(host, slot, version, ctx);
        state[slot] = version;
        // What the slot runs is written while its health is checked: neither waits for the other.
        const written = writeState(host, state, ctx);
        try {
          await gate(host, slot, version, live, ctx);
        } catch (err) {
          // The slot was stopped: the state says so before the run goes on to its rollback.
          await written;
          state[slot] = null;
          await writeState(host, state, ctx);
          throw err;
        }
        await written;
        if (strategy === 'canary' && !reuse && live) await canary(host, state, slot, version, ctx);
      }
      // Cancelled during the health check or the canary: traffic stays where it is.
      if (isCancelled()) throw new CancelledError(`the switch to ${version} on ${slot}`);
      try {
        await switchTo(host, slot, ctx);
      } catch (err) {
        // Traffic never moved (nginx -t refused, or the link could not be swapped): the slot
        // this run started is stopped, as after a failed health check. Not once nginx has the
        // new split (the old workers were slow to exit): the new slot serves.
        if (!moved && !running && slot !== live) {
          await stopSlot(host, slot, version, ctx).catch(() => undefined);
          state[slot] = null;
          await writeState(host, state, ctx);
        }
        throw err;
      }
      state.live = slot;
      await writeState(host, state, ctx);
      await retire(host, state, live && live !== slot ? live : null, ctx);
    } finally {
      await host.close();
    }
  };

  return {
    kind: 'nginx',
    deploy: (ctx) => goLive(ctx, ctx.version, false),
    rollback: (ctx) => goLive(ctx, ctx.version, true),
    async status(ctx) {
      const host = await openHost(ssh, ctx.runtime.env);
      try {
        const state = await readState(host);
        return state.live ? state[state.live] : null;
      } finally {
        await host.close();
      }
    },
    // What a real run would refuse before it starts anything: a pooled upstream, no master to reload.
    async preflight(ctx) {
      const host = await openHost(ssh, ctx.runtime.env);
      try {
        await Promise.all([checkNoKeepalive(host, ctx), checkMaster(host)]);
        return null;
      } catch (err) {
        if (err instanceof TargetError) return err.message;
        throw err;
      } finally {
        await host.close();
      }
    },
    describe() {
      const how =
        mode === 'socket'
          ? `swap ${link} (no reload), drain ${drainS}s`
          : `rewrite ${upstream}, nginx -t, reload, wait for the old workers (up to ${drainS + WORKER_EXIT_GRACE_MS / 1000}s)`;
      return {
        run: `${start} on the idle slot, health-check it there, ${strategy === 'canary' ? `canary ${steps.map((s) => `${s.weight}%`).join(' → ')}, ` : ''}${how}, ${stop} on the old slot`,
        rollback: 'traffic back to the slot running the last good version (started there first if stopped)',
        status: `the version on the live slot (${stateFile})`,
      };
    },
  };
}
