/**
 * Run one action from another (the pipeline, the CLI's plan and demo) through exactly the
 * code the runner runs: inputs go in as INPUT_* variables, outputs come back as strings.
 */
import { inputVariable, parseInputs, type ActionDefinition, type InputFields } from '../core/inputs.js';
import type { Runtime } from '../core/runtime.js';
import { applySecretsEnv } from '../core/secrets-env.js';
import { outputString } from '../core/runtime.js';
import { apiFailure } from '../github/errors.js';

/** Replaces an action's run for a local context (file ledger, embedded database). */
export type ActionOverride = (inputs: Record<string, unknown>, rt: Runtime) => Promise<void>;

/** A Runtime that logs through `parent` but keeps the outputs (and summaries) for the caller. */
function childRuntime(
  parent: Runtime,
  env: NodeJS.ProcessEnv,
  outputs: Record<string, string> = {},
): Runtime & { outputs: Record<string, string>; summaries: string[] } {
  const summaries: string[] = [];
  return {
    log: parent.log,
    env,
    cwd: parent.cwd,
    outputs,
    summaries,
    setOutput: (name, value) => {
      outputs[name] = parent.redact(outputString(value));
    },
    summary: async (md) => {
      summaries.push(md);
      await parent.summary(md);
    },
    mask: (s) => parent.mask(s),
    redact: (t) => parent.redact(t),
    keep: parent.keep,
  };
}

/** An action's outputs, and the error it failed with (outputs set before failing are kept). */
export interface Settled {
  outputs: Record<string, string>;
  error?: unknown;
}

/** Like invokeAction, but a failure is returned with the outputs the action set before it. */
export async function invokeActionSettled(
  action: ActionDefinition<InputFields>,
  inputs: Record<string, string | boolean | number | undefined>,
  parent: Runtime,
  override?: ActionOverride,
): Promise<Settled> {
  const outputs: Record<string, string> = {};
  try {
    Object.assign(outputs, await invokeAction(action, inputs, parent, override, outputs));
    return { outputs };
  } catch (error) {
    return { outputs, error };
  }
}

/** Run `action` with `inputs` (kebab-case names) under `parent`; returns its outputs. */
export async function invokeAction(
  action: ActionDefinition<InputFields>,
  inputs: Record<string, string | boolean | number | undefined>,
  parent: Runtime,
  override?: ActionOverride,
  sink?: Record<string, string>,
): Promise<Record<string, string>> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(parent.env)) if (!k.startsWith('INPUT_')) env[k] = v;
  // The parent's env is copied, not shared: SLIPWAY_SECRETS still there (the CLI) is expanded here.
  applySecretsEnv(env, (s) => parent.mask(s));
  for (const [name, value] of Object.entries(inputs)) if (value !== undefined) env[inputVariable(name)] = String(value);
  const rt = childRuntime(parent, env, sink);
  const parsed = parseInputs(action.inputs, env, rt);
  try {
    if (override) await override(parsed, rt);
    else await action.run(parsed, rt);
  } catch (err) {
    // As runOnGitHub does: a GitHub error the retries could not fix is one line for the user.
    throw apiFailure(err);
  }
  return rt.outputs;
}
