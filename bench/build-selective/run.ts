/**
 * bench/build-selective: a generated npm-workspaces monorepo of 2,000 packages and 100,000
 * files (built with `git fast-import`), then a commit changing 5,000 files. Times the
 * bundled action (as a process, the way a runner starts it, with base/head inputs) against
 * `turbo ls --affected` on the same repository in one run, checks that both pick the same
 * packages, and prints the ratio.
 *
 *   npm run bundle -- build-selective && npx tsx bench/build-selective/run.ts [--packages 2000]
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const PACKAGES = arg('packages', 2_000);
const FILES = arg('files', 100_000);
const CHANGED = arg('changed', 5_000);
const RUNS = arg('runs', 5);
/** The first LIBS packages are libraries; the rest are apps that depend on some of them. */
const LIBS = Math.floor(PACKAGES / 10);
const PER = Math.floor(FILES / PACKAGES) - 1;

const repo = path.join(ROOT, 'bench/.work', `build-selective-${PACKAGES}-${FILES}-${CHANGED}`);
const name = (i: number) => `pkg-${String(i).padStart(4, '0')}`;

/** Workspace dependencies of package i: two libraries, and for every fifth app an earlier app. */
function depsOf(i: number): number[] {
  if (i < LIBS) return i >= 10 && i % 4 === 0 ? [i % 10] : [];
  const deps = new Set([(i * 7) % LIBS, (i * 13 + 5) % LIBS]);
  if (i % 5 === 0 && i > LIBS) deps.add(LIBS + ((i * 3) % (i - LIBS)));
  return [...deps];
}

/** The packages whose files the benchmark's commit changes: spread over libraries and apps. */
function changedPackages(): number[] {
  const count = Math.ceil(CHANGED / PER);
  const out: number[] = [];
  for (let k = 0; out.length < count; k++) {
    const i = k < count / 10 ? LIBS - 1 - k * 3 : LIBS + ((k * 97) % (PACKAGES - LIBS));
    if (!out.includes(i)) out.push(i);
  }
  return out;
}

async function build(): Promise<void> {
  if (existsSync(path.join(repo, '.git', 'bench-ready'))) return;
  rmSync(repo, { recursive: true, force: true });
  mkdirSync(repo, { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main', repo]);
  const fi = spawn('git', ['fast-import', '--quiet'], { cwd: repo, stdio: ['pipe', 'inherit', 'inherit'] });
  let buf = '';
  const flush = async () => {
    if (!fi.stdin.write(buf)) await new Promise((r) => fi.stdin.once('drain', r));
    buf = '';
  };
  const file = (p: string, content: string) => {
    buf += `M 100644 inline ${p}\ndata ${Buffer.byteLength(content)}\n${content}\n`;
  };
  const commit = (mark: number, msg: string, parent?: number) => {
    buf += `commit refs/heads/main\nmark :${mark}\ncommitter Bench <bench@example.com> ${1_700_000_000 + mark} +0000\ndata ${Buffer.byteLength(msg)}\n${msg}\n`;
    if (parent) buf += `from :${parent}\n`;
  };

  commit(1, 'chore: the monorepo');
  file(
    'package.json',
    JSON.stringify(
      { name: 'bench', private: true, packageManager: 'npm@10.9.0', workspaces: ['packages/*'] },
      null,
      2,
    ) + '\n',
  );
  file(
    'turbo.json',
    JSON.stringify({ $schema: 'https://turborepo.com/schema.json', tasks: { build: {} } }, null, 2) + '\n',
  );
  const lock: Record<string, unknown> = { '': { name: 'bench', workspaces: ['packages/*'] } };
  const policy = ['components:'];
  for (let i = 0; i < PACKAGES; i++) {
    const deps = depsOf(i);
    const pkg = { name: name(i), version: '1.0.0', dependencies: Object.fromEntries(deps.map((d) => [name(d), '*'])) };
    lock[`packages/${name(i)}`] = pkg;
    lock[`node_modules/${name(i)}`] = { resolved: `packages/${name(i)}`, link: true };
    policy.push(
      `  ${name(i)}: { paths: [packages/${name(i)}/**]${deps.length ? `, dependsOn: [${deps.map(name).join(', ')}]` : ''} }`,
    );
    file(`packages/${name(i)}/package.json`, JSON.stringify(pkg, null, 2) + '\n');
    for (let f = 0; f < PER; f++)
      file(`packages/${name(i)}/src/${f % 10}/file-${f}.ts`, `export const v${f} = ${i * PER + f};\n`);
    if (buf.length > 1 << 20) await flush();
  }
  file(
    'package-lock.json',
    JSON.stringify({ name: 'bench', lockfileVersion: 3, requires: true, packages: lock }, null, 2) + '\n',
  );
  file('.github/slipway.yml', policy.join('\n') + '\n');
  buf += `reset refs/tags/bench-base\nfrom :1\n\n`;

  commit(2, 'feat: change 5,000 files', 1);
  let changed = 0;
  for (const i of changedPackages()) {
    for (let f = 0; f < PER && changed < CHANGED; f++, changed++)
      file(`packages/${name(i)}/src/${f % 10}/file-${f}.ts`, `export const v${f} = ${i * PER + f} + 1;\n`);
  }
  await flush();
  fi.stdin.end();
  await new Promise<void>((resolve, reject) =>
    fi.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`fast-import exited ${code}`)))),
  );
  execFileSync('git', ['checkout', '-q', '-f', 'main'], { cwd: repo });
  execFileSync('git', ['gc', '-q'], { cwd: repo });
  writeFileSync(path.join(repo, '.git', 'bench-ready'), '');
}

function time(cmd: string, args: string[], env: NodeJS.ProcessEnv): { ms: number; out: string } {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: repo, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}\n${r.stdout.slice(-2000)}`);
  return { ms, out: r.stdout };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

await build();
const base = execFileSync('git', ['rev-parse', 'bench-base'], { cwd: repo, encoding: 'utf8' }).trim();
const out = mkdtempSync(path.join(tmpdir(), 'bench-bs-'));
const ours: number[] = [];
const theirs: number[] = [];
let oursSet: string[] = [];
let theirsSet: string[] = [];
let diffCount = '';
// turbo compares with TURBO_SCM_BASE; its telemetry and update checks are off so only the work is timed.
const turboEnv = {
  ...process.env,
  TURBO_SCM_BASE: base,
  TURBO_SCM_HEAD: 'HEAD',
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
  TURBO_NO_UPDATE_NOTIFIER: '1',
};
for (let i = 0; i < RUNS; i++) {
  const outputFile = path.join(out, `o${i}`);
  writeFileSync(outputFile, '');
  const a = time(process.execPath, [path.join(ROOT, 'dist/build-selective/index.js')], {
    ...process.env,
    GITHUB_OUTPUT: outputFile,
    GITHUB_WORKSPACE: repo,
    GITHUB_EVENT_NAME: 'push',
    INPUT_BASE: base,
  });
  ours.push(a.ms);
  const outputs = readFileSync(outputFile, 'utf8');
  oursSet = JSON.parse(/changed<<(\S+)\n([^\n]*)/.exec(outputs)?.[2] ?? '[]') as string[];
  diffCount = /(\d+) files changed between/.exec(a.out)?.[1] ?? '?';
  const b = time(path.join(ROOT, 'node_modules/.bin/turbo'), ['ls', '--affected', '--output=json'], turboEnv);
  theirs.push(b.ms);
  const json = JSON.parse(b.out.slice(b.out.indexOf('{'))) as { packages: { items: { name: string }[] } };
  theirsSet = json.packages.items.map((p) => p.name);
}
rmSync(out, { recursive: true, force: true });
const o = median(ours);
const t = median(theirs);
const same = JSON.stringify([...oursSet].sort()) === JSON.stringify([...theirsSet].sort());
console.log(
  `monorepo: ${PACKAGES} packages, ${PACKAGES * (PER + 1)} files; ${diffCount} files changed in ${changedPackages().length} packages`,
);
console.log(
  `slipway build-selective (bundle, as a process): median ${o.toFixed(0)} ms over ${RUNS} runs → ${oursSet.length} selected`,
);
console.log(`turbo ls --affected: median ${t.toFixed(0)} ms → ${theirsSet.length} affected`);
console.log(`same set: ${same ? 'yes' : 'NO'}`);
if (!same) {
  const a = new Set(oursSet);
  const b = new Set(theirsSet);
  console.log(
    `only slipway: ${oursSet
      .filter((x) => !b.has(x))
      .slice(0, 20)
      .join(', ')}`,
  );
  console.log(
    `only turbo: ${theirsSet
      .filter((x) => !a.has(x))
      .slice(0, 20)
      .join(', ')}`,
  );
}
console.log(`ratio: slipway takes ${(o / t).toFixed(2)}× turbo's time (target ≤ 1, identical sets)`);
