/**
 * Mermaid's own parser for the graphs in job summaries, run in a plain Node process
 * (test/helpers/mermaid-parse.mjs): mermaid sanitises labels with DOMPurify, which needs a
 * DOM, and jsdom, which provides one, cannot be loaded by Jest's ESM module loader.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './run-action.js';

/** A parsed flowchart: its nodes (labels decoded) and edges. */
export interface Flowchart {
  nodes: { id: string; label: string; classes: string[] }[];
  edges: [string, string][];
}

/** Parse flowcharts (with or without their ```mermaid fence); a chart mermaid rejects throws its parse error. */
async function parseFlowcharts(sources: string[]): Promise<Flowchart[]> {
  const texts = sources.map((s) => s.replace(/^```mermaid\n/, '').replace(/\n```\s*$/, ''));
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'test/helpers/mermaid-parse.mjs')], { cwd: ROOT });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`mermaid-parse exited ${code}: ${err}`)),
    );
    child.stdin.end(JSON.stringify(texts));
  });
  return (JSON.parse(stdout) as (Flowchart | { error: string })[]).map((r) => {
    if ('error' in r) throw new Error(`mermaid: ${r.error}`);
    return r;
  });
}

/** Parse one flowchart. */
export async function parseFlowchart(source: string): Promise<Flowchart> {
  return (await parseFlowcharts([source]))[0];
}
