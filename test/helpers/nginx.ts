/**
 * A real nginx for tests: not a daemon, its own prefix and configuration, listening on
 * 127.0.0.1 and a free port; stopped by its PID. The access log has the format the nginx
 * target's canary reads (`$upstream_addr $status`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { trackServer, untrackServer } from './processes.js';
import { freePort } from './postgres.js';

/** A running nginx. */
export interface TestNginx {
  port: number;
  url: string;
  prefix: string;
  config: string;
  pidFile: string;
  accessLog: string;
  stop(): void;
}

// TEST_NGINX_BIN runs the tests against another nginx build (docs/deploy.md measured 1.26 this way).
const NGINX = process.env.TEST_NGINX_BIN ?? ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p)) ?? '';

/** True when nginx is installed. */
export function nginxAvailable(): boolean {
  return NGINX !== '';
}

/** The nginx binary. */
export const nginxBin = (): string => NGINX;

/** Worker processes of the test nginx (a reload replaces each). */
export const NGINX_WORKERS = 2;

/** Start nginx proxying `/` to `proxyPass`, with `httpExtra` at the http level (an include). */
export async function startNginx(o: { proxyPass: string; httpExtra?: string }): Promise<TestNginx> {
  const prefix = mkdtempSync(path.join(tmpdir(), 'slipway-nginx-'));
  mkdirSync(path.join(prefix, 'logs'));
  const port = await freePort();
  const config = path.join(prefix, 'nginx.conf');
  const pidFile = path.join(prefix, 'nginx.pid');
  const accessLog = path.join(prefix, 'access.log');
  writeFileSync(
    config,
    [
      'daemon off;',
      'master_process on;',
      `worker_processes ${NGINX_WORKERS};`,
      `pid ${pidFile};`,
      `error_log ${path.join(prefix, 'error.log')} warn;`,
      // Workers reach the test's sockets, which belong to the user running the tests.
      ...(process.getuid?.() === 0 ? ['user root;'] : []),
      'events { worker_connections 512; }',
      'http {',
      "  log_format slipway '$upstream_addr $status';",
      `  access_log ${accessLog} slipway;`,
      `  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy;`,
      `  fastcgi_temp_path ${prefix}/fcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;`,
      o.httpExtra ?? '',
      '  server {',
      `    listen 127.0.0.1:${port};`,
      '    location / {',
      `      proxy_pass ${o.proxyPass};`,
      '      proxy_next_upstream off;',
      '    }',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  let log = '';
  const child: ChildProcess = spawn(NGINX, ['-p', prefix, '-c', config, '-e', path.join(prefix, 'error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  if (child.pid) trackServer(child.pid, 'nginx');
  for (let i = 0; ; i++) {
    if (child.exitCode !== null)
      throw new Error(
        `nginx exited: ${log}${existsSync(path.join(prefix, 'error.log')) ? readFileSync(path.join(prefix, 'error.log'), 'utf8') : ''}`,
      );
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok && existsSync(pidFile)) break;
    if (i > 200) throw new Error(`nginx did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    prefix,
    config,
    pidFile,
    accessLog,
    stop() {
      if (child.pid && child.exitCode === null) child.kill('SIGTERM');
      if (child.pid) untrackServer(child.pid);
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
