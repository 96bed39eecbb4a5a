/**
 * The `kubernetes` target: `kubectl set image` on a workload (or `kubectl apply` of the
 * repository's manifests rendered at the version), then `kubectl rollout status` until it is
 * available or its progress deadline passes. Rollback does the same at the recorded last good
 * version and waits the same way; never `kubectl rollout undo`, which returns to the previous
 * revision, and after two bad deploys in a row that is the first bad one. Kubernetes leaves
 * rollback to "higher-level deployment pipelines" on purpose (kubernetes #23211): this is one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from '../../core/exec.js';
import { duration } from '../../core/markdown.js';
import { slipwayEnv, DEFAULT_COMMAND_TIMEOUT_S } from './command.js';
import { imageFor, imageTemplate, optionalString, requiredString, versionOf } from './image.js';
import { manifestPaths, renderManifests, type Rendered, type RenderedManifest } from './manifests.js';
import { TargetError, type DeployTarget, type TargetContext, type TargetOptions } from './target.js';

/** Bound of one kubectl call that is not a rollout wait, in seconds. */
const REQUEST_TIMEOUT_S = 30;

/** Build the kubernetes target of a component. */
export function kubernetesTarget(options: TargetOptions): DeployTarget {
  const { deploy } = options;
  const manifests = deploy.manifests === undefined ? undefined : manifestPaths(options);
  const resource = requiredString(options, 'resource', 'the workload, for example "deployment/api"');
  if (!/^[a-z]+(\.[a-z0-9.]+)?\/[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(resource))
    throw options.errorAt('resource', `expected "kind/name" such as "deployment/api", got "${resource}"`);
  const container = optionalString(options, 'container') ?? resource.slice(resource.indexOf('/') + 1);
  // With manifests the image is theirs; a template, when given, reads the version back from it.
  const template = manifests && deploy.image === undefined ? undefined : imageTemplate(options);
  const namespace = optionalString(options, 'namespace');
  const context = optionalString(options, 'context');
  const kubeconfigEnv = secretEnv(options, 'kubeconfig');
  const timeoutS = deploy.timeout ?? DEFAULT_COMMAND_TIMEOUT_S;

  const scope = [...(namespace ? ['--namespace', namespace] : []), ...(context ? ['--context', context] : [])];

  /** Run `fn` with the kubectl arguments that select the cluster; a kubeconfig secret lives only that long. */
  const withCluster = async <T>(ctx: TargetContext, fn: (args: string[]) => Promise<T>): Promise<T> => {
    if (!kubeconfigEnv) return fn(scope);
    const text = ctx.runtime.env[kubeconfigEnv];
    if (!text) throw new TargetError(`the variable ${kubeconfigEnv} (kubeconfig.env) is empty or not set`);
    ctx.runtime.mask(text);
    const dir = mkdtempSync(path.join(tmpdir(), 'slipway-kube-'));
    try {
      const file = path.join(dir, 'config');
      writeFileSync(file, text, { mode: 0o600 });
      return await fn(['--kubeconfig', file, ...scope]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  /** Run kubectl; its output redacted, but for a `raw` standard output (manifests to apply, not to show). */
  const kubectl = async (ctx: TargetContext, args: string[], timeoutMs: number, raw = false) => {
    const env = { ...ctx.runtime.env, ...slipwayEnv(ctx) };
    try {
      const result = await execFile('kubectl', args, { cwd: ctx.cwd, env, timeoutMs });
      const text = (s: string) => ctx.runtime.redact(s.trim());
      return { code: result.code, stdout: raw ? result.stdout : text(result.stdout), stderr: text(result.stderr) };
    } catch (err) {
      if ((err as { timedOut?: boolean }).timedOut)
        throw new TargetError(`kubectl ${args[0]} ${args[1] ?? ''} timed out after ${duration(timeoutMs)}`);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new TargetError('kubectl was not found on PATH (install it before the deploy step)');
      throw err;
    }
  };

  const lastLine = (text: string) =>
    text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .pop() ?? '';

  /** The rendered manifests' temporary paths replaced by the repository paths they came from. */
  const shownPaths = (text: string, rendered: readonly RenderedManifest[]) =>
    rendered.reduce((t, r) => t.replaceAll(r.file, r.shown), text);

  /** The kustomize build of an overlay, checked to set the image, in a file of `dir` to apply. */
  const kustomizeBuild = async (
    ctx: TargetContext,
    k: Extract<Rendered, { kind: 'kustomize' }>,
    dir: string,
  ): Promise<RenderedManifest> => {
    const built = await kubectl(ctx, ['kustomize', k.overlay], (REQUEST_TIMEOUT_S + 10) * 1000, true);
    if (built.code !== 0)
      throw new TargetError(
        `manifests: kustomize build of ${k.shown} failed: ${lastLine(built.stderr).replaceAll(dir, '<rendered manifests>') || `exit ${built.code}`}`,
      );
    // kustomize leaves an image it does not find alone: applying that would change nothing.
    if (!built.stdout.includes(k.image))
      throw new TargetError(
        `manifests: the kustomize build of ${k.shown} has no image ${k.image} (expected a container whose image is the one "image" names)`,
      );
    const file = path.join(dir, '000-kustomize-build.yaml');
    writeFileSync(file, built.stdout, { mode: 0o600 });
    return { file, shown: `${k.shown} (kustomize build)` };
  };

  /** `kubectl apply` of the manifests rendered at the version, in a private folder removed afterwards. */
  const apply = async (ctx: TargetContext, cluster: string[], entries: readonly string[]) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'slipway-kube-'));
    try {
      const rendered = await renderManifests(ctx.cwd, entries, ctx.version, dir, template);
      const files = rendered.kind === 'files' ? rendered.files : [await kustomizeBuild(ctx, rendered, dir)];
      const applied = await kubectl(
        ctx,
        [
          'apply',
          '-f',
          rendered.kind === 'files' ? dir : files[0].file,
          ...cluster,
          `--request-timeout=${REQUEST_TIMEOUT_S}s`,
        ],
        (REQUEST_TIMEOUT_S * (files.length + 1) + 10) * 1000,
      );
      const out = (t: string) => shownPaths(t, files).replaceAll(dir, '<rendered manifests>');
      // kubectl's errors may dump whole objects (a failed patch prints the original, modified
      // and current object, a Secret's data with them): only its warnings reach the log, and
      // the last line of an error the message.
      const warnings = applied.stderr.split('\n').filter((l) => /^warning:/i.test(l.trim()));
      for (const line of out([applied.stdout, ...warnings].join('\n')).split('\n')) if (line.trim()) ctx.onLine(line);
      if (applied.code !== 0)
        throw new TargetError(
          `kubectl apply of manifests failed: ${out(lastLine(applied.stderr)) || `exit ${applied.code}`}`,
        );
      ctx.onLine(`kubectl apply -f ${entries.join(', ')} at ${ctx.version}; waiting for the rollout of ${resource}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  /** Set the image of the version (or apply the manifests at it) and wait for the rollout; one-line TargetErrors. */
  const roll = async (ctx: TargetContext) => {
    const image = template === undefined ? undefined : imageFor(template, ctx.version);
    const what = image ?? `the manifests at ${ctx.version}`;
    await withCluster(ctx, async (cluster) => {
      if (manifests) await apply(ctx, cluster, manifests);
      else {
        const set = await kubectl(
          ctx,
          ['set', 'image', resource, `${container}=${image}`, ...cluster, `--request-timeout=${REQUEST_TIMEOUT_S}s`],
          (REQUEST_TIMEOUT_S + 10) * 1000,
        );
        for (const line of [set.stdout, set.stderr].join('\n').split('\n')) if (line.trim()) ctx.onLine(line);
        if (set.code !== 0) throw new TargetError(`kubectl set image on ${resource} failed: ${lastLine(set.stderr)}`);
        ctx.onLine(`kubectl set image ${resource} ${container}=${image}; waiting for the rollout`);
      }
      const status = await kubectl(
        ctx,
        ['rollout', 'status', resource, `--timeout=${timeoutS}s`, ...cluster],
        (timeoutS + REQUEST_TIMEOUT_S) * 1000,
      );
      for (const line of status.stdout.split('\n')) if (line.trim()) ctx.onLine(line);
      if (status.code === 0) return;
      const cause = lastLine(status.stderr);
      if (/progress deadline/.test(cause))
        throw new TargetError(`${resource} exceeded its progress deadline with ${what} (kubectl rollout status)`);
      if (/timed out waiting/.test(cause))
        throw new TargetError(`${resource} did not finish rolling out ${what} within ${timeoutS} s (timeout)`);
      throw new TargetError(`kubectl rollout status ${resource} failed: ${cause || `exit ${status.code}`}`);
    });
  };

  return {
    kind: 'kubernetes',
    deploy: roll,
    rollback: roll,
    async status(ctx) {
      return withCluster(ctx, async (cluster) => {
        const got = await kubectl(
          ctx,
          ['get', resource, '-o', 'json', ...cluster, `--request-timeout=${REQUEST_TIMEOUT_S}s`],
          (REQUEST_TIMEOUT_S + 10) * 1000,
        );
        if (got.code !== 0) throw new TargetError(`kubectl get ${resource} failed: ${lastLine(got.stderr)}`);
        const object = JSON.parse(got.stdout) as {
          spec?: { template?: { spec?: { containers?: { name: string; image?: string }[] } } };
        };
        const image = object.spec?.template?.spec?.containers?.find((c) => c.name === container)?.image;
        if (!image) throw new TargetError(`${resource} has no container named "${container}"`);
        return template === undefined ? tagOf(image) : versionOf(template, image);
      });
    },
    describe() {
      const where = [
        namespace && `-n ${namespace}`,
        context && `--context ${context}`,
        kubeconfigEnv && '--kubeconfig <temp file>',
      ]
        .filter(Boolean)
        .join(' ');
      const k = `kubectl${where ? ` ${where}` : ''}`;
      const wait = `${k} rollout status ${resource} --timeout=${timeoutS}s`;
      if (manifests)
        return {
          run: `render ${manifests.join(', ')} at $SLIPWAY_VERSION into a private temp folder (${template ? `{version} replaced, or for a kustomize folder the tag of ${template} set by kustomize` : '{version} replaced'}); ${k} apply -f <it>; ${wait}`,
          rollback: `the same manifests rendered at the recorded last good version, applied, and their rollout waited for (never kubectl rollout undo)`,
          status: `the tag of ${container}'s image in ${k} get ${resource}`,
        };
      return {
        run: `${k} set image ${resource} ${container}=${imageFor(template!, '$SLIPWAY_VERSION')}; ${wait}`,
        rollback: `the same with the recorded last good version (never kubectl rollout undo)`,
        status: `the tag of ${container}'s image in ${k} get ${resource}`,
      };
    },
  };
}

/** An image reference's tag, or null without one (a digest-only reference). */
function tagOf(image: string): string | null {
  const name = image.split('@')[0];
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > slash ? name.slice(colon + 1) : null;
}

/** The variable a `{ env: NAME }` key names (a secret), or undefined when the key is absent. */
function secretEnv(options: TargetOptions, key: string): string | undefined {
  const value = options.deploy[key];
  if (value === undefined) return undefined;
  const name = (value as { env?: unknown } | null)?.env;
  if (typeof value !== 'object' || value === null || typeof name !== 'string' || !/^[A-Za-z_]\w*$/.test(name))
    throw options.errorAt(key, 'expected { env: NAME }: the variable holding the value (a secret)');
  return name;
}
