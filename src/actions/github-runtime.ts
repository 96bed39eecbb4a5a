/**
 * The Runtime over @actions/core, and the one function every entry point calls: parse
 * the inputs, run the action, and turn any failure into a one-line `core.setFailed`.
 */
import * as core from '@actions/core';
import { describeFailure, isUserError } from '../core/errors.js';
import { parseInputs, type ActionDefinition, type InputFields } from '../core/inputs.js';
import { outputString, type Annotation, type Runtime } from '../core/runtime.js';
import { SecretMasker } from '../core/secrets.js';
import { applySecretsEnv } from '../core/secrets-env.js';

function props(a?: Annotation): core.AnnotationProperties | undefined {
  if (!a) return undefined;
  return { file: a.file, startLine: a.line, startColumn: a.column, title: a.title };
}

/** A Runtime that writes to the GitHub runner through @actions/core. */
export function createGitHubRuntime(env: NodeJS.ProcessEnv = process.env): Runtime {
  const masker = new SecretMasker();
  const clean = (t: string) => masker.redact(t);
  return {
    env,
    cwd: env.GITHUB_WORKSPACE || process.cwd(),
    log: {
      info: (m) => core.info(clean(m)),
      debug: (m) => core.debug(clean(m)),
      warning: (m, a) => core.warning(clean(m), props(a)),
      error: (m, a) => core.error(clean(m), props(a)),
      notice: (m, a) => core.notice(clean(m), props(a)),
      group: (name, fn) => core.group(clean(name), fn),
    },
    setOutput: (name, value) => core.setOutput(name, clean(outputString(value))),
    async summary(markdown) {
      if (!env.GITHUB_STEP_SUMMARY) return;
      await core.summary.addRaw(clean(markdown), true).write();
    },
    mask(secret) {
      if (!secret) return;
      masker.add(secret);
      for (const v of masker.values()) core.setSecret(v);
    },
    redact: clean,
  };
}

/** Run an action as the runner does; never throws, sets the exit code on failure. */
export async function runOnGitHub<F extends InputFields>(
  action: ActionDefinition<F>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const runtime = createGitHubRuntime(env);
  try {
    applySecretsEnv(env, runtime.mask);
    const inputs = parseInputs(action.inputs, env, runtime);
    await action.run(inputs, runtime);
  } catch (err) {
    const { message, detail } = describeFailure(err);
    if (detail) core.debug(runtime.redact(detail));
    // core.setFailed is exit code 1 plus an error line; written by hand to keep the file and line.
    process.exitCode = 1;
    core.error(runtime.redact(message), props(isUserError(err) ? err.location : undefined));
  }
}

/** True when this module is the process's entry script (not imported by a test or local-action). */
export function isEntryPoint(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  return moduleUrl === new URL(`file://${entry}`).href || moduleUrl.endsWith(entry);
}
