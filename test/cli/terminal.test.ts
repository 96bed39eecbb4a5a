import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTerminal, statusLabel } from '../../src/cli/terminal.js';
import { ROOT } from '../helpers/run-action.js';

// eslint-disable-next-line no-control-regex -- a status line ends at an escape
const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] ([^\r\n\x1b]*)/g;
// eslint-disable-next-line no-control-regex -- colour codes are what is stripped
const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

/** What a terminal shows at the end: each line's text after its last carriage return or erase. */
function finalScreen(stream: string): string[] {
  return stream.split(/\r?\n/).map((line) => {
    // eslint-disable-next-line no-control-regex -- erase-line is what ends a status line
    const parts = strip(line).split(/\r|\x1b\[2K/);
    return parts.at(-1) ?? '';
  });
}

describe('the status line', () => {
  it('names the newest running step with its parents, and counts the others running beside it', () => {
    const deploy = { label: 'deploy' };
    const api = { label: 'Deploy api', parent: deploy };
    const web = { label: 'Deploy web', parent: deploy };
    expect(statusLabel([deploy])).toBe('deploy');
    expect(statusLabel([deploy, api])).toBe('deploy › Deploy api');
    expect(statusLabel([deploy, api, web])).toBe('deploy › Deploy web (+1 running)');
    expect(statusLabel([])).toBe('');
  });

  it('draws nothing when CI is set or the stream is not a terminal', () => {
    const written: string[] = [];
    const stream = { isTTY: true, columns: 80, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const ci = createTerminal(stream, { CI: 'true' });
    ci.step('deploy').end();
    ci.line('a line');
    expect(written).toEqual(['a line\n']);
    const tty = createTerminal(stream, {});
    const s = tty.step('deploy');
    expect(written.join('')).toMatch(/⠋ deploy/);
    s.end();
  });

  it('the demo on a pseudo-terminal: redraws never flip between two labels, and the final screen lists every step once', () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'slipway-tty-'));
    const typescript = path.join(tmp, 'typescript');
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp, COLUMNS: '200' };
    delete env.CI;
    // script(1) gives the demo a real pseudo-terminal and records every byte it writes.
    const r = spawnSync('script', ['-q', '-e', '-c', `${process.execPath} bin/slipway.js demo`, typescript], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      timeout: 170_000,
    });
    const stream = readFileSync(typescript, 'utf8');
    rmSync(tmp, { recursive: true, force: true });
    expect(r.status).toBe(0);

    const labels = [...stream.matchAll(SPINNER)].map((m) => m[1]);
    expect(labels.length).toBeGreaterThan(0);
    const changes = labels.filter((l, i) => i > 0 && l !== labels[i - 1]).length;
    const distinct = labels.filter((l, i) => i === 0 || l !== labels[i - 1]);
    // Flicker is A, B, A, B: two labels taking turns. A parent shown again after its child ends is fine.
    for (let i = 0; i + 3 < distinct.length; i++)
      expect([distinct[i], distinct[i + 1]]).not.toEqual([distinct[i + 2], distinct[i + 3]]);
    const screen = finalScreen(stream);
    const headers = screen.filter((l) => /▸ /.test(l));
    // The label changes only when a step starts or ends: at most twice per step.
    expect(changes).toBeLessThanOrEqual(2 * headers.length);
    // Every step's header once, and no status line left behind on the screen.
    expect(headers.length).toBe((strip(stream).match(/▸ /g) ?? []).length);
    expect(screen.filter((l) => /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] /.test(l))).toEqual([]);
    expect(screen.join('\n')).toContain('✔ release: v0.1.0');
  }, 180_000);
});
