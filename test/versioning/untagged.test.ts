/**
 * A 20,000-commit history (40 times what the notes list) with no tag yet: version-bump reads
 * only the newest commits (the version is the initial one whatever they say), and its notes stay
 * within GitHub's limits, saying how many older commits they leave out.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { inputVariable, parseInputs } from '../../src/core/inputs.js';
import { NOTES_MAX_COMMITS } from '../../src/versioning/notes.js';
import { versionBump } from '../../src/versioning/version-bump.js';

const COMMITS = 20_000;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'slipway-untagged-'));
  await new Promise<void>((resolve, reject) => {
    const init = spawn('git', ['init', '-q', '-b', 'main', dir]);
    init.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`git init ${code}`))));
  });
  // fast-import: 20,000 commits, each with a Conventional Commits subject and a body.
  const fi = spawn('git', ['fast-import', '--quiet'], { cwd: dir, stdio: ['pipe', 'ignore', 'inherit'] });
  const done = new Promise<void>((resolve, reject) =>
    fi.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`fast-import ${code}`)))),
  );
  let chunk = '';
  for (let i = 1; i <= COMMITS; i++) {
    const msg = `${i % 3 === 0 ? 'feat' : 'fix'}: change number ${i}\n\nWhy change ${i} was needed.\n`;
    chunk += `commit refs/heads/main\ncommitter Dev <dev@example.com> ${1_600_000_000 + i} +0000\ndata ${Buffer.byteLength(msg)}\n${msg}\n`;
    if (i === 1) chunk += 'M 644 inline README\ndata 6\nhello\n\n';
    if (chunk.length > 1_000_000) {
      if (!fi.stdin.write(chunk)) await new Promise((r) => fi.stdin.once('drain', r));
      chunk = '';
    }
  }
  fi.stdin.end(chunk);
  await done;
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('no tag on 20,000 commits: the initial version, bounded notes that say what they leave out', async () => {
  const env: NodeJS.ProcessEnv = { [inputVariable('branch')]: 'main' };
  const rt = createMemoryRuntime({ env, cwd: dir });
  await versionBump.run(parseInputs(versionBump.inputs, env, rt), rt);
  expect(rt.outputs.version).toBe('0.1.0');
  expect(rt.outputs.release).toBe('true');
  const notes = rt.outputs.notes;
  // GitHub takes a step output of at most 1 MB and a release body of 125,000 characters.
  expect(Buffer.byteLength(notes)).toBeLessThan(125_000);
  expect(notes).toContain('change number 20000');
  expect(notes).not.toContain('change number 1\n');
  expect(notes).toContain(`_${COMMITS - NOTES_MAX_COMMITS} older commits are not listed._`);
}, 120_000);
