/**
 * The `command` target: the user's own `run`, `rollback` and `status` command lines (Railway,
 * Vercel, Fly, kubectl, helm, compose...). They run with `bash -c` in the repository and get
 * every value through SLIPWAY_* environment variables, never pasted into the string.
 */
import { runUserCommand } from '../../core/exec.js';
import { duration } from '../../core/markdown.js';
import { TargetError, type DeployTarget, type TargetContext, type TargetOptions } from './target.js';

/** The default bound of one command, in seconds. */
export const DEFAULT_COMMAND_TIMEOUT_S = 600;

/** The variables a command sees. */
export function slipwayEnv(ctx: TargetContext): Record<string, string> {
  return {
    SLIPWAY_VERSION: ctx.version,
    SLIPWAY_PREVIOUS_VERSION: ctx.previousVersion,
    SLIPWAY_COMPONENT: ctx.component,
    SLIPWAY_ENVIRONMENT: ctx.environment,
    SLIPWAY_SHA: ctx.sha,
    SLIPWAY_ENVIRONMENT_URL: ctx.environmentUrl,
  };
}

/** Build the command target of a component. */
export function commandTarget(options: TargetOptions): DeployTarget {
  const { deploy } = options;
  if (!deploy.run) throw options.errorAt('run', 'a command target needs "run" (the command that deploys)');
  const run = deploy.run;
  const timeoutMs = (deploy.timeout ?? DEFAULT_COMMAND_TIMEOUT_S) * 1000;

  const exec = async (step: string, command: string, ctx: TargetContext): Promise<string[]> => {
    const lines: string[] = [];
    const result = await runUserCommand(command, {
      cwd: ctx.cwd,
      env: slipwayEnv(ctx),
      baseEnv: ctx.runtime.env,
      timeoutMs,
      onLine: (line) => {
        lines.push(line);
        ctx.onLine(line);
      },
    });
    if (result.timedOut) throw new TargetError(`${step} command timed out after ${duration(timeoutMs)}`);
    if (result.code !== 0) {
      const last = result.tail.filter((l) => l.trim()).slice(-1)[0];
      throw new TargetError(
        `${step} command exited with ${result.signal ?? result.code}${last ? `: ${ctx.runtime.redact(last.trim())}` : ''}`,
      );
    }
    return lines;
  };

  return {
    kind: 'command',
    async deploy(ctx) {
      await exec('run', run, ctx);
    },
    async rollback(ctx) {
      // Without a rollback command, deploying the old version with `run` is the rollback.
      await exec(deploy.rollback ? 'rollback' : 'run', deploy.rollback ?? run, ctx);
    },
    status: deploy.status
      ? async (ctx) => {
          const lines = await exec('status', deploy.status!, ctx);
          return (
            lines
              .map((l) => l.trim())
              .filter(Boolean)
              .pop() ?? null
          );
        }
      : undefined,
    describe() {
      const out: Record<string, string> = { run };
      if (deploy.rollback) out.rollback = deploy.rollback;
      if (deploy.status) out.status = deploy.status;
      return out;
    },
  };
}
