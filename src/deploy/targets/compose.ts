/**
 * The `compose` target: `up -d --no-deps <service>` with the version's image set through the
 * variable the user's compose file reads (`image: ${API_IMAGE}`), never by editing the file;
 * then the container's own healthcheck when the service has one. Rollback is the same with the
 * last good version. A recreate stops the old container before the new one serves, so the
 * service has a brief outage; the plan says so. A cancel in the middle of that `up` finishes
 * the recreate at the same version (see finishRecreate), so the service is not left stopped.
 */
import path from 'node:path';
import { CancelledError, isCancelled, onCancel } from '../../core/cancel.js';
import { errorMessage } from '../../core/errors.js';
import { execFile, execUninterrupted, type ExecResult } from '../../core/exec.js';
import { duration } from '../../core/markdown.js';
import { DEFAULT_COMMAND_TIMEOUT_S, slipwayEnv } from './command.js';
import { imageFor, imageTemplate, optionalString, requiredString, versionOf } from './image.js';
import { nginxTarget } from './nginx.js';
import { TargetError, type DeployTarget, type TargetContext, type TargetOptions } from './target.js';

/** How often the container's health is read while waiting, in milliseconds. */
const HEALTH_POLL_MS = 500;
/** Bound of one docker call that only reads, in seconds. */
const READ_TIMEOUT_S = 30;
/**
 * How long a cancelled run waits for its own `up`, in milliseconds: it shares the cancel's 5 s
 * with the processes' stop before it (usually a moment, 1.5 s at most) and runs beside the
 * record's release. Measured here with the old container still stopping: 1.5 s with compose
 * v2, 1.9 s with v1 (over 3 s on a busy machine). The `up` is not killed when the wait ends.
 */
const CANCEL_WAIT_MS = 3_500;
/**
 * The stop timeout (`up -t`) of that `up`, in seconds: an old container still stopping (its
 * stop_grace_period is 10 s by default) would hold the recreate past the cancel's budget.
 */
const CANCEL_STOP_S = 1;

/** What the plan says about the program: detection happens at run time, the log names the one that ran. */
const V1_FALLBACK = 'docker-compose v1 when docker compose v2 is absent';
/** The one-line failure when neither program runs. */
const NEITHER =
  'neither "docker compose" (v2) nor "docker-compose" (v1) runs on this machine: install the Compose v2 plugin (or v1)';

/** The compose program found on the machine: v2 (`docker compose`) or v1 (`docker-compose`). */
interface ComposeCli {
  command: string;
  prefix: string[];
  name: string;
  v2: boolean;
}

/** Find `docker compose` (v2) first, else `docker-compose` (v1); null when neither runs. */
async function detectCompose(env: NodeJS.ProcessEnv): Promise<ComposeCli | null> {
  const candidates: ComposeCli[] = [
    { command: 'docker', prefix: ['compose'], name: 'docker compose (v2)', v2: true },
    { command: 'docker-compose', prefix: [], name: 'docker-compose (v1)', v2: false },
  ];
  for (const c of candidates) {
    try {
      const r = await execFile(c.command, [...c.prefix, 'version'], { env, timeoutMs: READ_TIMEOUT_S * 1000 });
      if (r.code === 0) return c;
    } catch {
      // Not installed, or it hung: try the next one.
    }
  }
  return null;
}

/** The run's environment with `extra` over it, except a placeholder never hides a value the environment sets. */
function placeholdersUnset(extra: Record<string, string>, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const [k, v] of Object.entries(extra)) if (v !== PLACEHOLDER_IMAGE || !env[k]) out[k] = v;
  return out;
}

/** The variable name `service` reads its image from by default: `api` → `API_IMAGE`. */
function defaultImageVariable(service: string): string {
  return `${service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_IMAGE`;
}

/**
 * Compose reads the whole file, so `image: ${WORKER_IMAGE}` of another component's service
 * must be set for `up --no-deps api` to run at all. Those variables get a placeholder (unless
 * the run's environment sets them): `--no-deps` and `ps <service>` never touch the services
 * they name.
 */
function siblingPlaceholders(options: TargetOptions, variable: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of options.others ?? []) {
    if (d.target !== 'compose' || typeof d.service !== 'string') continue;
    const v = typeof d.variable === 'string' ? d.variable : defaultImageVariable(d.service);
    if (v !== variable) out[v] = PLACEHOLDER_IMAGE;
  }
  return out;
}

/** What another component's image variable is set to when the run's environment leaves it unset. */
const PLACEHOLDER_IMAGE = 'slipway-placeholder:not-this-service';

/** Build the compose target of a component. */
export function composeTarget(options: TargetOptions): DeployTarget {
  const { deploy } = options;
  const service = requiredString(options, 'service', 'the compose service to recreate');
  const template = imageTemplate(options);
  const file = optionalString(options, 'file');
  const project = optionalString(options, 'project');
  const variable = optionalString(options, 'variable') ?? defaultImageVariable(service);
  if (!/^[A-Za-z_]\w*$/.test(variable))
    throw options.errorAt('variable', `expected a variable name, got "${variable}"`);
  const own = (deploy.env ?? {}) as Record<string, string>;
  if (typeof own !== 'object' || Array.isArray(own) || Object.values(own).some((v) => typeof v !== 'string'))
    throw options.errorAt('env', 'expected a mapping of variable names to strings');
  const extra = { ...siblingPlaceholders(options, variable), ...own };
  if (deploy.zeroDowntime !== undefined && typeof deploy.zeroDowntime !== 'boolean')
    throw options.errorAt('zeroDowntime', 'expected true or false');
  if (deploy.zeroDowntime === true)
    return zeroDowntimeTarget(options, { service, template, variable, file, project, extra });
  const timeoutS = deploy.timeout ?? DEFAULT_COMMAND_TIMEOUT_S;
  const fileArgs = [...(file ? ['-f', file] : []), ...(project ? ['-p', project] : [])];
  let cli: Promise<ComposeCli | null> | undefined;

  const envFor = (ctx: TargetContext): NodeJS.ProcessEnv => ({
    ...placeholdersUnset(extra, ctx.runtime.env),
    ...slipwayEnv(ctx),
    [variable]: imageFor(template, ctx.version),
  });

  const run = async (ctx: TargetContext, command: string, args: string[], timeoutMs: number): Promise<ExecResult> => {
    try {
      return await execFile(command, args, { cwd: ctx.cwd, env: envFor(ctx), timeoutMs });
    } catch (err) {
      if ((err as { timedOut?: boolean }).timedOut)
        throw new TargetError(
          `${command} ${args
            .filter((a) => !a.startsWith('-'))
            .slice(0, 2)
            .join(' ')} timed out after ${duration(timeoutMs)}`,
        );
      throw err;
    }
  };
  const lastLine = (ctx: TargetContext, r: ExecResult) =>
    ctx.runtime.redact(
      (r.stderr || r.stdout)
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .pop() ?? `exit ${r.signal ?? r.code}`,
    );

  const program = async (ctx: TargetContext): Promise<ComposeCli> => {
    cli ??= detectCompose(ctx.runtime.env);
    const found = await cli;
    if (!found) throw new TargetError(NEITHER);
    return found;
  };

  const compose = async (ctx: TargetContext, args: string[], timeoutMs = READ_TIMEOUT_S * 1000) => {
    const found = await program(ctx);
    return { found, result: await run(ctx, found.command, [...found.prefix, ...fileArgs, ...args], timeoutMs) };
  };

  /** The id of the service's running container (`all`: or one that exited), or null. */
  const containerId = async (ctx: TargetContext, all = false): Promise<string | null> => {
    const { result } = await compose(ctx, ['ps', ...(all ? ['-a'] : []), '-q', service]);
    if (result.code !== 0) throw new TargetError(`compose ps ${service} failed: ${lastLine(ctx, result)}`);
    return result.stdout.trim().split('\n').filter(Boolean)[0] ?? null;
  };

  const inspect = async (ctx: TargetContext, id: string, format: string) => {
    const r = await run(ctx, 'docker', ['inspect', '--format', format, id], READ_TIMEOUT_S * 1000);
    if (r.code !== 0) throw new TargetError(`docker inspect of ${service} failed: ${lastLine(ctx, r)}`);
    return r.stdout.trim();
  };

  /** Wait for the container's own healthcheck, when the service defines one. */
  const waitHealthy = async (ctx: TargetContext, id: string, image: string) => {
    // An exited container: its exit code and its last line of output say why.
    const why = async (state: string) => {
      if (state !== 'exited') return `${state}, not running`;
      const code = await inspect(ctx, id, '{{.State.ExitCode}}').catch(() => '?');
      const logs = await run(ctx, 'docker', ['logs', '--tail', '5', id], READ_TIMEOUT_S * 1000).catch(() => null);
      const last = logs ? lastLine(ctx, { ...logs, stderr: `${logs.stdout}\n${logs.stderr}` }) : '';
      return `exited (code ${code})${last && !/^exit /.test(last) ? `: ${last}` : ''}`;
    };
    const deadline = Date.now() + timeoutS * 1000;
    for (;;) {
      const health = await inspect(
        ctx,
        id,
        '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.State.Status}}',
      );
      const [status, state] = health.split(' ');
      if (status === 'none') {
        if (state !== 'running') throw new TargetError(`compose service ${service} (${image}) is ${await why(state)}`);
        ctx.onLine(`${service}: no container healthcheck defined; the component's health checks decide`);
        return;
      }
      if (status === 'healthy') {
        ctx.onLine(`${service}: container healthcheck healthy (${image})`);
        return;
      }
      if (status === 'unhealthy')
        throw new TargetError(
          `compose service ${service} is unhealthy with ${image} (its container healthcheck failed)`,
        );
      if (state !== 'running')
        throw new TargetError(
          `compose service ${service} (${image}) is ${await why(state)}, before its healthcheck passed`,
        );
      if (Date.now() > deadline)
        throw new TargetError(
          `compose service ${service} was not healthy within ${timeoutS} s with ${image} (timeout)`,
        );
      await new Promise((r) => setTimeout(r, HEALTH_POLL_MS));
    }
  };

  /**
   * A cancel kills compose wherever it is; in the middle of a recreate that is after the old
   * container stopped and before the new one started (compose v2 creates the new one, stops
   * the old, then starts the new), and the service stays down. This runs the same `up` again,
   * which finishes the recreate at the version being deployed (a container already at that
   * configuration is left alone). Forward, not back to the previous version: the outputs and
   * the record of a cancelled run already name that version for a component stopped in the
   * middle, a cancel rolls nothing back, and the new container often exists already. Killing
   * this `up` half-way would be the same outage again, so it is never killed, only waited for.
   */
  const finishRecreate = async (ctx: TargetContext, found: ComposeCli, image: string) => {
    const args = [...found.prefix, ...fileArgs, 'up', '-d', '--no-deps', '-t', String(CANCEL_STOP_S), service];
    const shown = (more: string[]) => [found.command, ...found.prefix, ...fileArgs, ...more].join(' ');
    const deadline = Date.now() + CANCEL_WAIT_MS;
    if (found.v2) await removeHalfMade(ctx, found, deadline);
    let why = '';
    // A failed `up` runs once more while the wait lasts: what the killed one left may still
    // be changing under it.
    for (let attempt = 0; attempt < 2 && (attempt === 0 || Date.now() < deadline); attempt++) {
      let r: ExecResult | 'running';
      try {
        r = await execUninterrupted(found.command, args, {
          cwd: ctx.cwd,
          env: envFor(ctx),
          // The first one is waited for a moment at least, whatever the `ps` before it took.
          waitMs: Math.max(deadline - Date.now(), 500),
        });
      } catch (err) {
        why = ctx.runtime.redact(errorMessage(err));
        break;
      }
      if (r === 'running') {
        ctx.onLine(
          `cancelled during compose up: running it again to finish the recreate at ${ctx.version} (${image}), still at it after ${duration(CANCEL_WAIT_MS)}; it goes on after this run ends, not verified (${shown(['ps', service])} shows it)`,
        );
        return;
      }
      if (r.code === 0) {
        ctx.onLine(
          `cancelled during compose up: ran it again to finish the recreate; ${service} left running at ${ctx.version} (${image}), not verified`,
        );
        return;
      }
      why = lastLine(ctx, r);
      ctx.onLine(`cancelled during compose up: running it again to finish the recreate failed (${why})`);
    }
    ctx.runtime.log.warning(
      `[${ctx.component}] cancelled during compose up, and running it again to finish the recreate failed (${why}): ${service} may be stopped; to start it at ${ctx.version}: ${variable}=${image} ${shown(['up', '-d', '--no-deps', service])}`,
    );
  };

  /**
   * Compose v2 makes the new container (under a name taken from the old one's id) before it
   * stops the old one. An `up` killed after that leaves it created, never started, and the
   * next `up` removes it while making another of that very name, in parallel: it fails on
   * its own name conflict more often than not. A created container never ran, so removing it
   * first loses nothing. A failure here is left to the `up` after it to report.
   */
  const removeHalfMade = async (ctx: TargetContext, found: ComposeCli, deadline: number) => {
    const quick = { cwd: ctx.cwd, env: envFor(ctx), cleanup: true };
    try {
      const ps = await execFile(
        found.command,
        [...found.prefix, ...fileArgs, 'ps', '-a', '-q', '--status', 'created', service],
        {
          ...quick,
          timeoutMs: Math.max(deadline - Date.now(), 1),
        },
      );
      const ids = ps.code === 0 ? ps.stdout.split('\n').filter(Boolean) : [];
      if (ids.length)
        await execFile('docker', ['rm', '-f', ...ids], { ...quick, timeoutMs: Math.max(deadline - Date.now(), 1) });
    } catch {
      // Timed out: the `up` runs with what time is left.
    }
  };

  const up = async (ctx: TargetContext) => {
    const image = imageFor(template, ctx.version);
    const found = await program(ctx);
    // Nothing is started once cancelled, so there is no recreate to finish either.
    if (isCancelled()) throw new CancelledError(`compose up of ${service}`);
    // Registered in the same tick as the spawn, so it runs exactly when an `up` was started.
    // In the release phase: after the cancel has reaped the killed `up` (two at once would
    // race for the container), beside the record's release, which it must not delay.
    const finish = onCancel(() => finishRecreate(ctx, found, image), 'release');
    let result: ExecResult;
    try {
      result = await run(
        ctx,
        found.command,
        [...found.prefix, ...fileArgs, 'up', '-d', '--no-deps', service],
        timeoutS * 1000,
      );
    } finally {
      // Once cancelled the cleanup must stay: this `up` may have been killed half-way.
      if (!isCancelled()) finish();
    }
    for (const line of `${result.stdout}\n${result.stderr}`.split('\n')) if (line.trim()) ctx.onLine(line);
    ctx.onLine(`ran ${found.name}: up -d --no-deps ${service} with ${variable}=${image}`);
    if (result.code !== 0)
      throw new TargetError(`compose up of ${service} with ${image} failed: ${lastLine(ctx, result)}`);
    // -a: a container that exited at once is the news, not "no container".
    const id = await containerId(ctx, true);
    if (!id) throw new TargetError(`compose service ${service} has no container after up`);
    await waitHealthy(ctx, id, image);
  };

  return {
    kind: 'compose',
    deploy: up,
    rollback: up,
    async status(ctx) {
      const id = await containerId(ctx);
      if (!id) return null;
      return versionOf(template, await inspect(ctx, id, '{{.Config.Image}}'));
    },
    describe() {
      const c = `docker compose${fileArgs.length ? ` ${fileArgs.join(' ')}` : ''}`;
      return {
        run: `${variable}=${imageFor(template, '$SLIPWAY_VERSION')} ${c} up -d --no-deps ${service} (${V1_FALLBACK}); wait for its container healthcheck (brief outage: the container is recreated)`,
        rollback: `the same with the recorded last good version`,
        status: `the image tag of ${service}'s running container`,
      };
    },
  };
}

/**
 * A slot's start, run by the nginx target with `sh -c`: every value arrives through the
 * environment. The image is the template with each `{version}` replaced by SLIPWAY_VERSION;
 * the slot's service is `<service>-<slot>`; it returns once the container's healthcheck (if
 * any) says healthy.
 */
const SLOT_START = `set -eu
cd "$SLIPWAY_COMPOSE_DIR"
t="$SLIPWAY_COMPOSE_IMAGE"; image=""
while :; do case "$t" in *"{version}"*) image="$image\${t%%"{version}"*}$SLIPWAY_VERSION"; t="\${t#*"{version}"}";; *) image="$image$t"; break;; esac; done
export "$SLIPWAY_COMPOSE_VARIABLE=$image"
svc="$SLIPWAY_COMPOSE_SERVICE-$SLIPWAY_SLOT"
set -- $SLIPWAY_COMPOSE_PROGRAM
[ -n "\${SLIPWAY_COMPOSE_FILE:-}" ] && set -- "$@" -f "$SLIPWAY_COMPOSE_FILE"
[ -n "\${SLIPWAY_COMPOSE_PROJECT:-}" ] && set -- "$@" -p "$SLIPWAY_COMPOSE_PROJECT"
"$@" up -d --no-deps "$svc"
id=$("$@" ps -q "$svc")
n=0
while :; do
  h=$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$id")
  case "$h" in
    healthy|none) exit 0;;
    unhealthy) echo "compose service $svc is unhealthy with $image (its container healthcheck failed)" >&2; exit 1;;
  esac
  n=$((n + 1))
  [ "$n" -gt $((SLIPWAY_COMPOSE_TIMEOUT * 2)) ] && { echo "compose service $svc was not healthy within $SLIPWAY_COMPOSE_TIMEOUT s with $image" >&2; exit 1; }
  sleep 0.5
done`;

/** A slot's stop: the slot's service is stopped and its container removed. */
const SLOT_STOP = `set -eu
cd "$SLIPWAY_COMPOSE_DIR"
export "$SLIPWAY_COMPOSE_VARIABLE=unused"
svc="$SLIPWAY_COMPOSE_SERVICE-$SLIPWAY_SLOT"
set -- $SLIPWAY_COMPOSE_PROGRAM
[ -n "\${SLIPWAY_COMPOSE_FILE:-}" ] && set -- "$@" -f "$SLIPWAY_COMPOSE_FILE"
[ -n "\${SLIPWAY_COMPOSE_PROJECT:-}" ] && set -- "$@" -p "$SLIPWAY_COMPOSE_PROJECT"
"$@" stop -t "$SLIPWAY_COMPOSE_STOP_TIMEOUT" "$svc"
"$@" rm -f "$svc"`;

/**
 * `zeroDowntime: true`: the nginx target's blue-green (or canary) with compose services
 * `<service>-blue` and `<service>-green` as the slots; the new version starts on the idle
 * one, passes its health checks there, and traffic moves before the old one stops.
 */
function zeroDowntimeTarget(
  options: TargetOptions,
  s: {
    service: string;
    template: string;
    variable: string;
    file?: string;
    project?: string;
    extra: Record<string, string>;
  },
): DeployTarget {
  const { deploy } = options;
  // The slot commands read their settings from this machine's environment, which a remote
  // host does not get.
  if (deploy.ssh !== undefined)
    throw options.errorAt('ssh', 'zeroDowntime compose runs here only (set DOCKER_HOST in env for a remote Docker)');
  for (const key of ['start', 'stop'])
    if (deploy[key] !== undefined)
      throw options.errorAt(key, `zeroDowntime compose writes its own ${key} (the slot's compose service)`);
  const timeoutS = deploy.timeout ?? DEFAULT_COMMAND_TIMEOUT_S;
  const nginx = nginxTarget({ ...options, deploy: { ...deploy, target: 'nginx', start: SLOT_START, stop: SLOT_STOP } });
  let program: Promise<ComposeCli | null> | undefined;

  /** The context with the compose settings added to the environment the slot commands inherit. */
  const withCompose = async (ctx: TargetContext): Promise<TargetContext> => {
    program ??= detectCompose(ctx.runtime.env);
    const found = await program;
    if (!found) throw new TargetError(NEITHER);
    const env: Record<string, string> = {
      ...placeholdersUnset(s.extra, ctx.runtime.env),
      SLIPWAY_COMPOSE_DIR: ctx.cwd,
      SLIPWAY_COMPOSE_PROGRAM: [found.command, ...found.prefix].join(' '),
      SLIPWAY_COMPOSE_FILE: s.file ? path.resolve(ctx.cwd, s.file) : '',
      SLIPWAY_COMPOSE_PROJECT: s.project ?? '',
      SLIPWAY_COMPOSE_SERVICE: s.service,
      SLIPWAY_COMPOSE_IMAGE: s.template,
      SLIPWAY_COMPOSE_VARIABLE: s.variable,
      SLIPWAY_COMPOSE_TIMEOUT: String(timeoutS),
      SLIPWAY_COMPOSE_STOP_TIMEOUT: '10',
    };
    ctx.onLine(`slots are compose services ${s.service}-blue and ${s.service}-green, run with ${found.name}`);
    return { ...ctx, runtime: { ...ctx.runtime, env: { ...ctx.runtime.env, ...env } } };
  };

  return {
    kind: 'compose',
    deploy: async (ctx) => nginx.deploy(await withCompose(ctx)),
    rollback: async (ctx) => nginx.rollback(await withCompose(ctx)),
    status: nginx.status ? async (ctx) => nginx.status!(await withCompose(ctx)) : undefined,
    describe() {
      const start = `${s.variable}=${imageFor(s.template, '$SLIPWAY_VERSION')} docker compose up -d --no-deps ${s.service}-<idle slot> (${V1_FALLBACK})`;
      const stop = `docker compose stop ${s.service}-<old slot>`;
      return Object.fromEntries(
        Object.entries(nginx.describe()).map(([k, v]) => [k, v.replace(SLOT_START, start).replace(SLOT_STOP, stop)]),
      );
    },
  };
}
