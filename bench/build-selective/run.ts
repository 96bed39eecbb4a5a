/**
 * bench/build-selective: a generated npm-workspaces monorepo of 2,000 packages and 100,000
 * files (built with `git fast-import`), and two scenarios on top of it:
 *   - one changed file, objects packed (a routine push after `git gc`);
 *   - 5,001 changed files in a fresh local commit, objects loose (a large change as a runner
 *     sees it right after `git commit`, before any gc).
 * Each scenario times, interleaved run by run, the bundled action as a process (cold, its
 * default settings, the way a runner starts it) twice, with `workspaces: true` (components
 * read from the package.json files, as turbo reads them) and with the 2,000 components listed
 * in the policy file, turbo's native binary (`turbo ls --affected`,
 * not the Node launcher in node_modules/.bin, which adds ~100 ms of start-up), and the floor
 * (`git diff --name-only base head`, what any tool must at least do). It checks that both
 * select the same packages and prints medians, ratios and the machine's load as a table.
 *
 *   npm run bundle -- build-selective && npx tsx bench/build-selective/run.ts [--packages 2000] [--runs 7]
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const PACKAGES = arg('packages', 2_000);
const FILES = arg('files', 100_000);
const CHANGED = arg('changed', 5_001);
const RUNS = arg('runs', 7);
/** The first LIBS packages are libraries; the rest are apps that depend on some of them. */
const LIBS = Math.floor(PACKAGES / 10);
const PER = Math.floor(FILES / PACKAGES) - 1;

const repo = path.join(ROOT, 'bench/.work', `build-selective-v2-${PACKAGES}-${FILES}-${CHANGED}`);
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

  // Scenario one-file: a single library file changed, packed with the base by the gc below.
  commit(2, 'fix: one file', 1);
  file(`packages/${name(LIBS - 1)}/src/0/file-0.ts`, `export const v0 = 'changed';\n`);
  buf += `reset refs/heads/one-file\nfrom :2\n\n`;
  await flush();
  fi.stdin.end();
  await new Promise<void>((resolve, reject) =>
    fi.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`fast-import exited ${code}`)))),
  );
  execFileSync('git', ['reset', '-q', '--hard', 'bench-base'], { cwd: repo });
  execFileSync('git', ['gc', '-q'], { cwd: repo });
  // Scenario large-loose: CHANGED files edited in the work tree and committed by git itself,
  // after the gc, so its objects stay loose.
  execFileSync('git', ['checkout', '-q', '-f', '-b', 'large-loose', 'bench-base'], { cwd: repo });
  let changed = 0;
  for (const i of changedPackages())
    for (let f = 0; f < PER && changed < CHANGED; f++, changed++)
      writeFileSync(
        path.join(repo, `packages/${name(i)}/src/${f % 10}/file-${f}.ts`),
        `export const v${f} = ${i * PER + f} + 1;\n`,
      );
  execFileSync('git', ['add', '-A'], { cwd: repo });
  execFileSync(
    'git',
    [
      '-c',
      'user.name=Bench',
      '-c',
      'user.email=bench@example.com',
      'commit',
      '-q',
      '-m',
      `feat: change ${CHANGED} files`,
    ],
    { cwd: repo },
  );
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

/** The native turbo binary of this platform, as a user who installs turbo globally runs it. */
function turboBinary(): string {
  const dir = path.join(ROOT, 'node_modules/@turbo');
  for (const d of existsSync(dir) ? readdirSync(dir) : []) {
    const bin = path.join(dir, d, 'bin/turbo');
    if (existsSync(bin)) return bin;
  }
  throw new Error('no native turbo binary under node_modules/@turbo (npm ci installs the one of this platform)');
}

interface Row {
  scenario: string;
  files: string;
  ours: number;
  listed: number;
  turbo: number;
  floor: number;
  selected: number;
  affected: number;
  same: boolean;
}

/** Time one scenario: our bundle, native turbo and the floor, interleaved, RUNS times each. */
function scenario(label: string, branch: string, turbo: string, out: string): Row {
  execFileSync('git', ['checkout', '-q', '-f', branch], { cwd: repo });
  const base = execFileSync('git', ['rev-parse', 'bench-base'], { cwd: repo, encoding: 'utf8' }).trim();
  const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
  const turboEnv = {
    ...process.env,
    TURBO_SCM_BASE: base,
    TURBO_SCM_HEAD: head,
    TURBO_TELEMETRY_DISABLED: '1',
    DO_NOT_TRACK: '1',
    TURBO_NO_UPDATE_NOTIFIER: '1',
  };
  const ours: number[] = [];
  const listed: number[] = [];
  const theirs: number[] = [];
  const floor: number[] = [];
  let oursSet: string[] = [];
  let theirsSet: string[] = [];
  let files = '?';
  for (let i = 0; i < RUNS; i++) {
    const outputFile = path.join(out, `${branch}-${i}`);
    writeFileSync(outputFile, '');
    // The order rotates so that neither contender always runs on the other's warm caches.
    // Ours twice: the components from the workspaces (`workspaces: true`, what a user of a
    // 2,000-package monorepo writes, reading the package.json files as turbo does) and the
    // same graph listed component by component in the policy file.
    const action = (config: string, into: number[]) => () => {
      writeFileSync(outputFile, '');
      const a = time(process.execPath, [path.join(ROOT, 'dist/build-selective/index.js')], {
        ...process.env,
        GITHUB_OUTPUT: outputFile,
        GITHUB_WORKSPACE: repo,
        GITHUB_EVENT_NAME: 'push',
        GITHUB_SHA: head,
        INPUT_BASE: base,
        INPUT_CONFIG: config,
      });
      into.push(a.ms);
      const outputs = readFileSync(outputFile, 'utf8');
      const set = JSON.parse(
        /changed<<(\S+)\n([^\n]*)/.exec(outputs)?.[2] ?? /changed=(.*)/.exec(outputs)?.[1] ?? '[]',
      ) as string[];
      if (oursSet.length > 0 && JSON.stringify([...set].sort()) !== JSON.stringify([...oursSet].sort()))
        throw new Error(`${config} selected a different set than the other policy file`);
      oursSet = set;
    };
    const steps = [
      action(WORKSPACES_POLICY, ours),
      action('.github/slipway.yml', listed),
      () => {
        const b = time(turbo, ['ls', '--affected', '--output=json'], turboEnv);
        theirs.push(b.ms);
        const json = JSON.parse(b.out.slice(b.out.indexOf('{'))) as { packages: { items: { name: string }[] } };
        theirsSet = json.packages.items.map((p) => p.name);
      },
      () => {
        const c = time('git', ['diff', '--name-only', base, head], process.env);
        floor.push(c.ms);
        files = String(c.out.split('\n').filter(Boolean).length);
      },
    ];
    for (let k = 0; k < steps.length; k++) steps[(i + k) % steps.length]();
  }
  const same = JSON.stringify([...oursSet].sort()) === JSON.stringify([...theirsSet].sort());
  return {
    scenario: label,
    files,
    ours: median(ours),
    listed: median(listed),
    turbo: median(theirs),
    floor: median(floor),
    selected: oursSet.length,
    affected: theirsSet.length,
    same,
  };
}

await build();
// Not committed, and excluded so that no tool sees it as a change: the policy file's path is an input.
const WORKSPACES_POLICY = '.github/slipway-workspaces.yml';
writeFileSync(path.join(repo, WORKSPACES_POLICY), 'workspaces: true\n');
writeFileSync(path.join(repo, '.git/info/exclude'), `/${WORKSPACES_POLICY}\n`);
const turbo = turboBinary();
const out = mkdtempSync(path.join(tmpdir(), 'bench-bs-'));
const loadBefore = loadavg()[0];
const rows = [
  scenario('one file, packed', 'one-file', turbo, out),
  scenario(`${CHANGED} files, loose`, 'large-loose', turbo, out),
];
const loadAfter = loadavg()[0];
rmSync(out, { recursive: true, force: true });
execFileSync('git', ['checkout', '-q', '-f', 'main'], { cwd: repo });

console.log(`monorepo: ${PACKAGES} packages, ${PACKAGES * (PER + 1)} files; medians of ${RUNS} interleaved runs`);
console.log(
  `load average (1 min): ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after, on ${os.cpus().length} cores`,
);
console.log('');
console.log(
  '| scenario | files changed | slipway, workspaces | slipway, 2,000 listed | turbo (native) | floor: git diff | workspaces / turbo | listed / turbo | selected (slipway / turbo) |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
for (const r of rows)
  console.log(
    `| ${r.scenario} | ${r.files} | ${r.ours.toFixed(0)} ms | ${r.listed.toFixed(0)} ms | ${r.turbo.toFixed(0)} ms | ${r.floor.toFixed(0)} ms | **${(r.ours / r.turbo).toFixed(2)}×** | ${(r.listed / r.turbo).toFixed(2)}× | ${r.selected} / ${r.affected}${r.same ? ', same' : ', DIFFERENT'} |`,
  );
console.log('');
console.log('target: slipway (workspaces) ≤ 0.8× turbo in every scenario, with the same selection');
if (rows.some((r) => !r.same)) process.exitCode = 1;
