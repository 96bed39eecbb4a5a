/**
 * bench/version-bump: a generated history of 100,000 commits and 2,000 tags, 10,000
 * commits since the last tag, built with `git fast-import`. Times the bundled action (as
 * a process, the way a runner starts it) against `conventional-recommended-bump -p
 * conventionalcommits` on the same repository in one run, and prints the ratio.
 *
 *   npm run bundle -- version-bump && npx tsx bench/version-bump/run.ts [--commits 100000] [--series 4]
 *
 * `--series N` adds N components, each with its own folder and its own tag series in a
 * different shape (`s0/1.2.3`, `@acme/s1@1.2.3`, `s2-v1.2.3`, `sdk/s3/v1.2.3`, …), tagged
 * as often as the repository: version-bump then versions N + 1 series in one run, and the
 * peer runs once per series as a user scripts it (`-t <prefix> --commit-path <folder>` for
 * each component: it answers one series a run), its times summed; the bumps are compared.
 * `--bundle DIR` times another bundle of the action than dist/version-bump.
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
const COMMITS = arg('commits', 100_000);
const TAGS = arg('tags', 2_000);
const SINCE = arg('since', 10_000);
const RUNS = arg('runs', 7);
const SERIES = arg('series', 0);
const bundleAt = process.argv.indexOf('--bundle');
const BUNDLE = bundleAt > 0 ? path.resolve(process.argv[bundleAt + 1]) : path.join(ROOT, 'dist/version-bump');

const SHAPES = ['s{k}/{version}', '@acme/s{k}@{version}', 's{k}-v{version}', 'sdk/s{k}/v{version}'];
/** The tag template of component k: the shapes in turn, so every kind of name is listed and parsed. */
const template = (k: number) => SHAPES[k % SHAPES.length].replace('{k}', String(k));

const repo = path.join(
  ROOT,
  'bench/.work',
  `version-bump-${COMMITS}-${TAGS}-${SINCE}${SERIES ? `-series${SERIES}` : ''}`,
);

/** Stream a fast-import script into git: commits, a file per commit, tags every so often. */
async function build(): Promise<void> {
  if (existsSync(path.join(repo, '.git', 'bench-ready'))) return;
  rmSync(repo, { recursive: true, force: true });
  mkdirSync(repo, { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main', repo]);
  const fi = spawn('git', ['fast-import', '--quiet'], { cwd: repo, stdio: ['pipe', 'inherit', 'inherit'] });
  const tagged = COMMITS - SINCE;
  const every = Math.floor(tagged / TAGS);
  const types = ['feat', 'fix', 'chore', 'docs', 'perf', 'refactor', 'test', 'fix'];
  let version = [0, 1, 0];
  let buf = '';
  const flush = async () => {
    if (!fi.stdin.write(buf)) await new Promise((r) => fi.stdin.once('drain', r));
    buf = '';
  };
  const t0 = 1_600_000_000;
  const policy = SERIES
    ? `components:\n${Array.from({ length: SERIES }, (_, k) => `  s${k}: { paths: [s${k}/**], tag: "${template(k)}" }\n`).join('')}`
    : '';
  for (let i = 1; i <= COMMITS; i++) {
    const type = types[i % types.length];
    const msg = `${type}${i % 13 === 0 ? '(api)' : ''}: change number ${i}${i % 17 === 0 ? ` (#${i})` : ''}\n\nBody of commit ${i}.\n`;
    const content = `line ${i}\n`;
    buf += `commit refs/heads/main\nmark :${i}\ncommitter Bench <bench@example.com> ${t0 + i} +0000\ndata ${Buffer.byteLength(msg)}\n${msg}`;
    if (i > 1) buf += `from :${i - 1}\n`;
    // With series, commit i touches component i % SERIES's folder (and every fifth, only src/).
    const folder = SERIES && i % 5 !== 0 ? `s${i % SERIES}` : 'src';
    buf += `M 100644 inline ${folder}/f${i % 500}.txt\ndata ${Buffer.byteLength(content)}\n${content}\n`;
    if (i === 1 && policy) buf += `M 100644 inline .github/slipway.yml\ndata ${Buffer.byteLength(policy)}\n${policy}\n`;
    if (i <= tagged && i % every === 0) {
      version =
        i % (every * 50) === 0
          ? [version[0] + 1, 0, 0]
          : i % (every * 5) === 0
            ? [version[0], version[1] + 1, 0]
            : [version[0], version[1], version[2] + 1];
      const name = `v${version.join('.')}`;
      const tmsg = `Release ${name}\n`;
      buf += `tag ${name}\nfrom :${i}\ntagger Bench <bench@example.com> ${t0 + i} +0000\ndata ${Buffer.byteLength(tmsg)}\n${tmsg}\n`;
      for (let k = 0; k < SERIES; k++) {
        const c = template(k).replace('{version}', version.join('.'));
        buf += `tag ${c}\nfrom :${i}\ntagger Bench <bench@example.com> ${t0 + i} +0000\ndata ${Buffer.byteLength(c) + 1}\n${c}\n\n`;
      }
    }
    if (buf.length > 1 << 20) await flush();
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
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return { ms, out: r.stdout };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

await build();
const out = mkdtempSync(path.join(tmpdir(), 'bench-vb-'));
const CRB = path.join(ROOT, 'node_modules/.bin/conventional-recommended-bump');
/** The peer's runs for one answer: the product, then (with series) each component, as a user scripts it. */
const peerRuns: { series: string; args: string[] }[] = [
  { series: 'product', args: ['-p', 'conventionalcommits'] },
  ...Array.from({ length: SERIES }, (_, k) => ({
    series: `s${k}`,
    // Every template here is a prefix and the version: the peer's --tag-prefix reads that series.
    args: ['-p', 'conventionalcommits', '-t', template(k).replace('{version}', ''), '--commit-path', `s${k}`],
  })),
];
const ours: number[] = [];
const theirs: number[] = [];
const theirsProduct: number[] = [];
let oursVersion = '';
const oursBumps: Record<string, string> = {};
const theirsBumps: Record<string, string> = {};
for (let i = 0; i < RUNS; i++) {
  const outputFile = path.join(out, `o${i}`);
  writeFileSync(outputFile, '');
  const a = time(process.execPath, [path.join(BUNDLE, 'index.js')], {
    ...process.env,
    GITHUB_OUTPUT: outputFile,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_WORKSPACE: repo,
  });
  ours.push(a.ms);
  const outputs = readFileSync(outputFile, 'utf8');
  const output = (name: string) => new RegExp(`${name}<<(\\S+)\n([^\n]*)`).exec(outputs)?.[2] ?? '';
  oursVersion = output('version') || '?';
  oursBumps.product = output('bump');
  for (const [name, c] of Object.entries(JSON.parse(output('components') || '{}') as Record<string, { bump: string }>))
    oursBumps[name] = c.bump;
  let total = 0;
  for (const run of peerRuns) {
    const b = time(CRB, run.args, process.env);
    total += b.ms;
    if (run.series === 'product') theirsProduct.push(b.ms);
    theirsBumps[run.series] = b.out.trim();
  }
  theirs.push(total);
}
rmSync(out, { recursive: true, force: true });
const o = median(ours);
const t = median(theirs);
// The peer's preset recommends at least a patch for any commit; ours releases nothing for a
// series whose commits are only chore, test, docs… (semantic-release's rule): that pair agrees.
const agree = (ours: string, theirs: string) => ours === theirs || (ours === 'none' && theirs === 'patch');
const same = peerRuns.every((r) => agree(oursBumps[r.series], theirsBumps[r.series]));
console.log(
  `history: ${COMMITS} commits, ${TAGS} tags, ${SINCE} commits since the last tag${SERIES ? `; ${SERIES} component series (${TAGS * SERIES} more tags)` : ''}`,
);
console.log(
  `slipway version-bump (bundle, as a process): median ${o.toFixed(0)} ms over ${RUNS} runs → ${oursVersion}, ${1 + SERIES} series in one run`,
);
console.log(
  `conventional-recommended-bump -p conventionalcommits${SERIES ? `, once per series (-t <prefix> --commit-path <folder>), summed` : ''}: median ${t.toFixed(0)} ms` +
    (SERIES ? ` (the product's run alone: ${median(theirsProduct).toFixed(0)} ms)` : ''),
);
console.log(
  `bumps per series: ${peerRuns.map((r) => `${r.series} ${oursBumps[r.series]}/${theirsBumps[r.series]}`).join(', ')} → ${same ? 'same (none/patch: the peer patches for chore-only series)' : 'DIFFERENT'}`,
);
console.log(
  `ratio: slipway takes ${(o / t).toFixed(2)}× the peer's time${SERIES ? `; ${(o / median(theirsProduct)).toFixed(2)}× of the peer's single product run` : ''} (target ≤ 0.5×)`,
);
if (!same) process.exitCode = 1;
