/**
 * A product to deploy in a temporary git repository: command targets that append
 * "start|end <component> <version>" to a log and write the version they deployed to
 * state/<component>, and a real HTTP server on 127.0.0.1 whose /health/<component> turns
 * unhealthy when that component runs a version the test marks bad.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createMemoryRuntime, type MemoryRuntime } from '../../src/core/memory-runtime.js';
import { deployInputs, type DeployInputs } from '../../src/deploy/inputs.js';
import { parseInputs, inputVariable } from '../../src/core/inputs.js';
import { createRepo, type TestRepo } from '../helpers/git-repo.js';

/** One line of the command log. */
export interface LogLine {
  event: string;
  component: string;
  version: string;
  previous: string;
}

/** The test product. */
export interface Product {
  repo: TestRepo;
  dir: string;
  url: string;
  /** component → versions that answer 503 on /health/<component>. */
  bad: Map<string, Set<string>>;
  writeConfig(yaml: string): void;
  log(): LogLine[];
  clearLog(): void;
  runtime(): MemoryRuntime;
  inputs(values: Record<string, string>): DeployInputs;
  close(): Promise<void>;
}

/** A deploy command that logs its start and end around `middle` (a bash snippet). */
export const logged = (middle = 'true') =>
  `echo "start $SLIPWAY_COMPONENT $SLIPWAY_VERSION $SLIPWAY_PREVIOUS_VERSION" >> "$DEPLOY_LOG"; ${middle}; ` +
  `mkdir -p state; echo "$SLIPWAY_VERSION" > "state/$SLIPWAY_COMPONENT"; ` +
  `echo "end $SLIPWAY_COMPONENT $SLIPWAY_VERSION $SLIPWAY_PREVIOUS_VERSION" >> "$DEPLOY_LOG"`;

/** A rollback command that logs itself. */
export const loggedRollback = () =>
  `echo "rollback $SLIPWAY_COMPONENT $SLIPWAY_VERSION $SLIPWAY_PREVIOUS_VERSION" >> "$DEPLOY_LOG"; ` +
  `mkdir -p state; echo "$SLIPWAY_VERSION" > "state/$SLIPWAY_COMPONENT"`;

/** Create the product; `close` stops the server and removes the folder. */
export async function createProduct(): Promise<Product> {
  const repo = createRepo();
  repo.commit('the product', { 'README.md': 'a product\n' });
  const dir = repo.dir;
  const logFile = path.join(dir, 'deploy.log');
  const bad = new Map<string, Set<string>>();
  const server = http.createServer((req, res) => {
    const m = /^\/health\/([\w.-]+)$/.exec(req.url ?? '');
    if (!m) return res.writeHead(404).end();
    const stateFile = path.join(dir, 'state', m[1]);
    const version = existsSync(stateFile) ? readFileSync(stateFile, 'utf8').trim() : '';
    if (bad.get(m[1])?.has(version)) return res.writeHead(503).end(`unhealthy ${version}`);
    res.writeHead(200).end(`ok ${version}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  mkdirSync(path.join(dir, '.github'), { recursive: true });
  return {
    repo,
    dir,
    url,
    bad,
    writeConfig(yaml) {
      writeFileSync(path.join(dir, '.github', 'slipway.yml'), yaml.replaceAll('$URL', url));
    },
    log() {
      if (!existsSync(logFile)) return [];
      return readFileSync(logFile, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [event, component, version = '', previous = ''] = l.split(' ');
          return { event, component, version, previous };
        });
    },
    clearLog() {
      rmSync(logFile, { force: true });
    },
    runtime() {
      return createMemoryRuntime({ cwd: dir, env: { ...process.env, DEPLOY_LOG: logFile } });
    },
    inputs(values) {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(values)) env[inputVariable(k)] = v;
      return parseInputs(deployInputs, env);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The index in `log` of the first line matching. */
export function indexOf(log: LogLine[], event: string, component: string): number {
  return log.findIndex((l) => l.event === event && l.component === component);
}
