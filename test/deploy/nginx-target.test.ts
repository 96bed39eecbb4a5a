/**
 * `target: nginx` for real: nginx (not a daemon, its own prefix) in front of two small Node
 * servers on Unix sockets as the blue and green slots, under bounded load on 127.0.0.1.
 * Zero failed requests across a deploy and a rollback with the socket switch; no 502 with
 * the reload switch; a negative control that shows what a missing drain does; a version that
 * fails its health checks never gets a request; canary weights and an aborted canary.
 */
import { jest } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import http from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { runDeploy } from '../../src/deploy/deploy.js';
import { FileLedger } from '../../src/deploy/record/file-ledger.js';
import { upstreamFile } from '../../src/deploy/targets/nginx.js';
import { runLoad, type LoadResult } from '../helpers/load.js';
import { ROOT } from '../helpers/run-action.js';
import { nginxAvailable, nginxBin, startNginx, type TestNginx, NGINX_WORKERS } from '../helpers/nginx.js';
import { privateDirUnavailable, sshdAvailable, sshPolicy, startSshd } from '../helpers/sshd.js';
import { createProduct, type Product } from './fixture.js';

const SERVER = path.resolve(import.meta.dirname, '../fixtures/slot-server.mjs');
const available = nginxAvailable();
if (!available) console.warn('nginx target tests skipped: nginx is not installed (.ci/run installs nginx-light)');
const maybe = available ? describe : describe.skip;

jest.setTimeout(120_000);

/** The slots' start and stop commands: a Node server per slot, its PID in the work folder. */
const START =
  'if [ -n "$BAD_VERSION" ] && [ "$SLIPWAY_VERSION" = "$BAD_VERSION" ]; then export UNHEALTHY=1; fi; ' +
  'if [ -n "$FAIL_VERSION" ] && [ "$SLIPWAY_VERSION" = "$FAIL_VERSION" ]; then export FAIL_RATE=0.3; fi; ' +
  'nohup node "$SLOT_SERVER" "${SLIPWAY_SLOT_ADDRESS#unix:}" "$SLIPWAY_VERSION" > "$WORK/$SLIPWAY_SLOT.log" 2>&1 & ' +
  'echo $! > "$WORK/$SLIPWAY_SLOT.pid"';
const STOP = 'kill -TERM "$(cat "$WORK/$SLIPWAY_SLOT.pid")" 2>/dev/null; rm -f "$WORK/$SLIPWAY_SLOT.pid"; true';

maybe('target: nginx', () => {
  let p: Product;
  let work: string;
  let nginx: TestNginx | null = null;
  beforeEach(async () => {
    p = await createProduct();
    work = mkdtempSync(path.join(tmpdir(), 'slipway-slots-'));
  });
  afterEach(async () => {
    nginx?.stop();
    nginx = null;
    // Every slot server this test started, by PID.
    for (const slot of ['blue', 'green']) {
      const pidFile = path.join(work, `${slot}.pid`);
      if (existsSync(pidFile)) {
        try {
          process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    await p.close();
    rmSync(work, { recursive: true, force: true });
  });

  const slots = () => ({ blue: `unix:${work}/blue.sock`, green: `unix:${work}/green.sock` });
  const running = () => ['blue', 'green'].filter((s) => existsSync(path.join(work, `${s}.pid`)));

  function configure(deploy: Record<string, unknown>) {
    p.writeConfig(
      stringify({
        components: {
          web: {
            deploy: { target: 'nginx', slots: slots(), start: START, stop: STOP, drain: 1, ...deploy },
            health: [{ http: '/health' }],
          },
        },
        environments: { staging: { url: nginx!.url } },
      }),
    );
  }

  async function deploy(version: string, extra: Record<string, string> = {}, env: Record<string, string> = {}) {
    const rt = p.runtime();
    Object.assign(rt.env, { SLOT_SERVER: SERVER, WORK: work, ...env });
    let error: Error | undefined;
    try {
      await runDeploy({
        inputs: p.inputs({ environment: 'staging', version, timeout: '10', ...extra }),
        record: new FileLedger(p.dir),
        runtime: rt,
      });
    } catch (err) {
      error = err as Error;
    }
    return { error, rt };
  }

  /** Deploy `next` over `first`, then roll back, all under load; the load's result. */
  async function deployAndRollBack(keepAlive: boolean, env: Record<string, string> = {}): Promise<LoadResult> {
    const changes = (async () => {
      const up = await deploy('1.1.0', {}, env);
      expect(up.error).toBeUndefined();
      const back = await deploy('', { rollback: 'true' }, env);
      expect(back.error).toBeUndefined();
    })();
    // Loading until both switches are done, however slow a loaded machine (or ssh) makes them.
    const load = await runLoad({
      url: nginx!.url,
      total: 4000,
      max: 100_000,
      concurrency: 10,
      keepAlive,
      until: changes,
    });
    await changes;
    return load;
  }

  test.each([true, false])(
    'socket switch: a deploy and a rollback under load lose no request (client keep-alive %s)',
    async (keepAlive) => {
      nginx = await startNginx({ proxyPass: `http://unix:${work}/live.sock:` });
      configure({ switch: 'socket', link: `${work}/live.sock`, config: nginx.config });
      expect((await deploy('1.0.0')).error).toBeUndefined();
      const load = await deployAndRollBack(keepAlive);
      expect(load.sent).toBeGreaterThanOrEqual(4000);
      expect(load.errors).toEqual({});
      expect(load.non2xx).toBe(0);
      // Both versions served while the load ran, and only the rolled-back slot is left running.
      expect(Object.keys(load.versions).sort()).toEqual(['1.0.0', '1.1.0']);
      expect(running()).toHaveLength(1);
      expect(readFileSync(`${work}/${running()[0]}.log`, 'utf8')).toBe('');
    },
  );

  (sshdAvailable() ? test : test.skip)(
    'over SSH: the state, the link swap and the slots run on the host, and a deploy and a rollback under load lose no request',
    async () => {
      const sshd = await startSshd();
      try {
        nginx = await startNginx({ proxyPass: `http://unix:${work}/live.sock:` });
        // Remote commands see only the SLIPWAY_* variables, so the paths are in the commands.
        const q = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
        configure({
          switch: 'socket',
          link: `${work}/live.sock`,
          config: nginx.config,
          start: START.replaceAll('node "$SLOT_SERVER"', `${q(process.execPath)} ${q(SERVER)}`).replaceAll(
            '$WORK',
            work,
          ),
          stop: STOP.replaceAll('$WORK', work),
          ssh: sshPolicy(sshd),
        });
        const keys = { DEPLOY_KEY: sshd.userKey, KNOWN_HOSTS: sshd.knownHosts };
        const first = await deploy('1.0.0', {}, keys);
        expect(first.error).toBeUndefined();
        expect(first.rt.text()).toContain(`on ${sshd.user}@127.0.0.1:${sshd.port}`);
        const load = await deployAndRollBack(true, keys);
        expect(load.errors).toEqual({});
        expect(load.non2xx).toBe(0);
        expect(Object.keys(load.versions).sort()).toEqual(['1.0.0', '1.1.0']);
        expect(JSON.parse(readFileSync(`${work}/live.sock.slipway.json`, 'utf8'))).toEqual({
          live: running()[0],
          blue: running()[0] === 'blue' ? '1.0.0' : null,
          green: running()[0] === 'green' ? '1.0.0' : null,
        });
        expect(running()).toHaveLength(1);
      } finally {
        sshd.stop();
      }
    },
  );

  const privateReason = sshdAvailable() ? privateDirUnavailable() : 'no OpenSSH server';
  if (privateReason) console.warn(`nginx over SSH with slots the runner cannot see skipped: ${privateReason}`);
  (privateReason ? test.skip : test)(
    'over SSH: slots the runner cannot see are health-checked through the SSH connection, then switched to',
    async () => {
      // The host's sshd has a tmpfs of its own over `hidden`: the slots' sockets exist only on
      // the host, as on a real remote one (the usual test sshd shares this machine's files).
      const hidden = mkdtempSync(path.join(tmpdir(), 'slipway-hidden-'));
      const sshd = await startSshd({ privateDir: hidden });
      // Only the environment's health after the switch runs here; the idle slot's is the test.
      const site = http.createServer((_req, res) => res.end('ok'));
      await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
      try {
        const q = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
        p.writeConfig(
          stringify({
            components: {
              web: {
                deploy: {
                  target: 'nginx',
                  slots: { blue: `unix:${hidden}/blue.sock`, green: `unix:${hidden}/green.sock` },
                  // 1.3.0 starts nothing: its checks cannot connect.
                  start: `[ "$SLIPWAY_VERSION" = 1.3.0 ] && exit 0; ${START}`
                    .replaceAll('node "$SLOT_SERVER"', `${q(process.execPath)} ${q(SERVER)}`)
                    .replaceAll('$WORK', work),
                  stop: STOP.replaceAll('$WORK', work),
                  drain: 0,
                  switch: 'socket',
                  link: `${work}/live.sock`,
                  ssh: sshPolicy(sshd),
                },
                health: [{ http: '/health' }],
              },
            },
            environments: {
              staging: { url: `http://127.0.0.1:${(site.address() as { port: number }).port}` },
            },
          }),
        );
        const keys = { DEPLOY_KEY: sshd.userKey, KNOWN_HOSTS: sshd.knownHosts };
        const first = await deploy('1.0.0', {}, keys);
        expect(first.error).toBeUndefined();
        const second = await deploy('1.1.0', {}, keys);
        expect(second.error).toBeUndefined();
        expect(existsSync(`${hidden}/green.sock`)).toBe(false);
        expect(JSON.parse(readFileSync(`${work}/live.sock.slipway.json`, 'utf8'))).toEqual({
          live: 'green',
          blue: null,
          green: '1.1.0',
        });
        expect(running()).toEqual(['green']);
        // An idle slot that cannot be reached: the retry lines and the failure name the slot as
        // the host has it, never the socket forwarded to this machine (a temporary file).
        const none = await deploy('1.3.0', { timeout: '3' }, keys);
        const blue = `http+unix://${encodeURIComponent(`${hidden}/blue.sock`)}/health`;
        expect(none.error?.message).toContain(`/health: connection reset (${blue})`);
        expect(none.rt.text()).toContain(`/health: attempt 1 failed: connection reset (${blue})`);
        expect(none.rt.text()).not.toMatch(/fwd\d|slw-/);
        expect(running()).toEqual(['green']);
      } finally {
        site.close();
        sshd.stop();
        rmSync(hidden, { recursive: true, force: true });
      }
    },
  );

  test('the socket switch refuses an upstream with keepalive, in one line naming the file and line', async () => {
    nginx = await startNginx({ proxyPass: `http://unix:${work}/live.sock:` });
    const pooled = path.join(work, 'pooled.conf');
    writeFileSync(pooled, `upstream app {\n    server unix:${work}/live.sock;\n    keepalive 16;\n}\n`);
    configure({ switch: 'socket', link: `${work}/live.sock`, config: pooled });
    const expected = new RegExp(
      `${pooled.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3: "keepalive" in upstream app, which sends to .*live\\.sock, keeps pooled connections on the old slot`,
    );
    // A dry run (slipway plan) says so, as the real run will.
    const dry = await deploy('1.0.0', { 'dry-run': 'true' });
    expect(dry.error).toBeUndefined();
    expect((JSON.parse(dry.rt.outputs.plan) as { refusal: string }).refusal).toMatch(expected);
    const r = await deploy('1.0.0');
    expect(r.error?.message).toMatch(expected);
    expect(running()).toEqual([]);
  });

  test('reload switch without a running nginx: a dry run says so, and a real run fails before it starts a slot', async () => {
    const upstream = path.join(work, 'upstream.conf');
    nginx = await startNginx({ proxyPass: 'http://127.0.0.1:9' });
    const pid = nginx.pidFile;
    configure({ switch: 'reload', upstream, config: nginx.config, pid });
    nginx.stop();
    nginx = null;
    const expected = `no nginx master runs with the pid in ${pid} on this machine (the reload switch reloads a running nginx: start it first, with ${upstream} written once; see docs/deploy.md)`;
    const dry = await deploy('1.0.0', { 'dry-run': 'true' });
    expect((JSON.parse(dry.rt.outputs.plan) as { refusal: string }).refusal).toBe(`web: ${expected}`);
    const r = await deploy('1.0.0');
    expect(r.error?.message).toContain(expected);
    expect(existsSync(path.join(work, 'blue.log'))).toBe(false);
    expect(running()).toEqual([]);
  });

  test('the keepalive check reads the configuration as nginx does: an upstream in an included file is refused, one to elsewhere is not', async () => {
    mkdirSync(path.join(work, 'conf.d'));
    const included = path.join(work, 'conf.d', 'app.conf');
    writeFileSync(
      included,
      `# the app\nupstream other { server 127.0.0.1:9; keepalive 8; }\nupstream app {\n  server unix:${work}/live.sock;\n  keepalive 16;\n}\n`,
    );
    nginx = await startNginx({ proxyPass: 'http://app', httpExtra: `  include ${work}/conf.d/*.conf;` });
    const base = {
      switch: 'socket',
      link: `${work}/live.sock`,
      config: nginx.config,
      nginx: nginxBin(),
      prefix: nginx.prefix,
    };
    configure(base);
    const refused = await deploy('1.0.0');
    expect(refused.error?.message).toContain(
      `${included}:5: "keepalive" in upstream app, which sends to ${work}/live.sock, keeps pooled connections on the old slot after a socket switch; remove it (or use switch: reload)`,
    );
    expect(running()).toEqual([]);
    // Only the upstream to the link matters: one to another backend may pool.
    writeFileSync(
      included,
      `upstream other { server 127.0.0.1:9; keepalive 8; }\nupstream app { server unix:${work}/live.sock; }\n`,
    );
    expect((await deploy('1.0.0')).error).toBeUndefined();
    expect(await fetch(nginx.url).then((res) => res.text())).toBe('1.0.0');
  });

  test("a failing start shows its stderr in the log, and its cause (not a stack frame) in the error's one line", async () => {
    nginx = await startNginx({ proxyPass: `http://unix:${work}/live.sock:` });
    configure({
      switch: 'socket',
      link: `${work}/live.sock`,
      start:
        'echo "starting $SLIPWAY_VERSION" >&2; echo "Error: listen EADDRINUSE: address already in use" >&2; echo "    at Server.listen (node:net:1)" >&2; exit 3',
    });
    const r = await deploy('1.0.0');
    expect(r.error?.message).toContain(
      'start (blue) on this machine exited with 3: starting 1.0.0 | Error: listen EADDRINUSE: address already in use',
    );
    expect(r.error?.message).not.toContain('Server.listen');
    expect(r.rt.text()).toContain('[web] starting 1.0.0');
  });

  test('canary settings are checked at their line: a percentage as maxErrorRate, steps without strategy: canary', async () => {
    const upstream = path.join(work, 'upstream.conf');
    writeFileSync(upstream, upstreamFile('slipway_web', slots(), 'blue', 0));
    nginx = await startNginx({ proxyPass: 'http://$slipway_web', httpExtra: `  include ${upstream};` });
    const reload = { switch: 'reload', upstream, config: nginx.config, nginx: nginxBin(), prefix: nginx.prefix };
    configure({
      ...reload,
      strategy: 'canary',
      steps: [{ weight: 10, hold: 1 }],
      abort: { maxErrorRate: 5, minRequests: 20, accessLog: nginx.accessLog },
    });
    const percent = await deploy('1.0.0');
    expect(percent.error?.message).toMatch(
      /^\.github\/slipway\.yml:\d+:\d+: components\.web\.deploy\.abort: maxErrorRate: expected a fraction from 0 to 1 \(0\.05 is 5 %\), got 5$/,
    );
    configure({ ...reload, steps: [{ weight: 10, hold: 1 }] });
    const ignored = await deploy('1.0.0');
    expect(ignored.error?.message).toMatch(
      /^\.github\/slipway\.yml:\d+:\d+: components\.web\.deploy\.steps: only read by strategy: canary/,
    );
    expect(running()).toEqual([]);
  });

  test('canary: a run cancelled during a hold (SIGINT) puts all traffic back on the stable slot', async () => {
    const upstream = path.join(work, 'upstream.conf');
    const stableOnly = upstreamFile('slipway_web', slots(), 'blue', 0);
    writeFileSync(upstream, stableOnly);
    nginx = await startNginx({ proxyPass: 'http://$slipway_web', httpExtra: `  include ${upstream};` });
    configure({
      switch: 'reload',
      upstream,
      config: nginx.config,
      nginx: nginxBin(),
      prefix: nginx.prefix,
      strategy: 'canary',
      steps: [{ weight: 50, hold: 60 }],
    });
    expect((await deploy('1.0.0')).error).toBeUndefined();
    let out = '';
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [path.join(ROOT, 'bin/slipway.js'), 'deploy', '--environment', 'staging', '--version', '1.1.0'],
        {
          cwd: p.dir,
          env: { ...process.env, CI: 'true', GITHUB_TOKEN: '', SLOT_SERVER: SERVER, WORK: work },
        },
      );
      const onData = (d: Buffer) => {
        out += d;
        if (out.includes('holding') && !child.killed) child.kill('SIGINT');
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('error', reject);
      child.on('close', resolve);
    });
    expect(out).toContain('canary 1.1.0 at 50%');
    expect(code).not.toBe(0);
    expect(out).toMatch(/cancelled: all traffic back on blue; 1\.1\.0 still runs on green, without traffic/);
    expect(readFileSync(upstream, 'utf8')).toBe(stableOnly);
    const after = await runLoad({ url: nginx.url, total: 500, concurrency: 10, keepAlive: false });
    expect(after.versions['1.1.0'] ?? 0).toBe(0);
    expect(after.non2xx).toBe(0);
  });

  test.each([true, false])(
    'reload switch: no 502 across a deploy and a rollback; resets only where nginx closed a kept-alive connection (client keep-alive %s)',
    async (keepAlive) => {
      const upstream = path.join(work, 'upstream.conf');
      writeFileSync(upstream, upstreamFile('slipway_web', slots(), 'blue', 0));
      nginx = await startNginx({ proxyPass: 'http://$slipway_web', httpExtra: `  include ${upstream};` });
      configure({ switch: 'reload', upstream, config: nginx.config, nginx: nginxBin(), prefix: nginx.prefix });
      expect((await deploy('1.0.0')).error).toBeUndefined();
      const load = await deployAndRollBack(keepAlive);
      expect(load.statuses[502] ?? 0).toBe(0);
      expect(load.non2xx).toBe(0);
      if (!keepAlive) {
        // Each connection closes after its answer: nothing idle for a quitting worker to close.
        expect(load.errors).toEqual({});
      } else {
        // An old worker that quits closes its idle kept-alive client connections, and one that
        // has not quit yet may accept a reconnecting client first: a request on such a
        // connection is reset (docs/deploy.md). So at most one per client connection, per old
        // worker, per reload.
        const resets = Object.values(load.errors).reduce((a, b) => a + b, 0);
        expect(Object.keys(load.errors).filter((code) => code !== 'ECONNRESET')).toEqual([]);
        expect(resets).toBeLessThanOrEqual(10 * NGINX_WORKERS * 2);
      }
      expect(running()).toHaveLength(1);
    },
  );

  test('reload switch: a configuration nginx -t refuses keeps the previous upstream file and the traffic where it was', async () => {
    const upstream = path.join(work, 'upstream.conf');
    writeFileSync(upstream, upstreamFile('slipway_web', slots(), 'blue', 0));
    nginx = await startNginx({ proxyPass: 'http://$slipway_web', httpExtra: `  include ${upstream};` });
    configure({ switch: 'reload', upstream, config: nginx.config, nginx: nginxBin(), prefix: nginx.prefix });
    expect((await deploy('1.0.0')).error).toBeUndefined();
    const live = readFileSync(upstream, 'utf8');
    // Someone left the main configuration broken: nginx -t fails whatever Slipway writes.
    writeFileSync(nginx.config, `${readFileSync(nginx.config, 'utf8')}\nnot_a_directive on;\n`);
    const failed = await deploy('1.1.0');
    expect(failed.error?.message).toMatch(
      /nginx -t failed with the new .*upstream\.conf in place \(the previous one is back\): .*unknown directive "not_a_directive" in .*nginx\.conf/,
    );
    expect(readFileSync(upstream, 'utf8')).toBe(live);
    const answer = await fetch(nginx.url).then((r) => r.text());
    expect(answer).toBe('1.0.0');
    // The slot started for 1.1.0 is stopped again: only the live one runs.
    expect(running()).toEqual(['blue']);
  });

  test('negative control: stopping the old slot at the switch, without a drain, fails requests in flight', async () => {
    nginx = await startNginx({ proxyPass: `http://unix:${work}/live.sock:` });
    configure({
      switch: 'socket',
      link: `${work}/live.sock`,
      drain: 0,
      stop: 'kill -KILL "$(cat "$WORK/$SLIPWAY_SLOT.pid")"; rm -f "$WORK/$SLIPWAY_SLOT.pid"; true',
    });
    expect((await deploy('1.0.0')).error).toBeUndefined();
    const changes = deploy('1.1.0');
    const load = await runLoad({
      url: nginx.url,
      path: '/?slow=150',
      total: 400,
      // Still loading when the switch comes, however long a loaded machine takes to get there.
      max: 20_000,
      concurrency: 10,
      keepAlive: true,
      until: changes,
    });
    expect((await changes).error).toBeUndefined();
    expect(load.statuses[502] ?? 0).toBeGreaterThanOrEqual(1);
  });

  test('a version failing its health checks on the idle slot is never switched to: it gets no request', async () => {
    nginx = await startNginx({ proxyPass: `http://unix:${work}/live.sock:` });
    configure({ switch: 'socket', link: `${work}/live.sock` });
    expect((await deploy('1.0.0')).error).toBeUndefined();
    const changes = deploy('2.0.0', { timeout: '2' }, { BAD_VERSION: '2.0.0' });
    const load = await runLoad({ url: nginx.url, total: 1000, concurrency: 10, keepAlive: true, until: changes });
    const bad = await changes;
    expect(bad.error?.message).toMatch(
      /2\.0\.0 on the idle slot green failed its health checks, so no traffic was moved to it \(still on blue\)/,
    );
    expect(load.versions['2.0.0'] ?? 0).toBe(0);
    expect(load.non2xx).toBe(0);
    expect(running()).toEqual(['blue']);
    // Nothing changed, so nothing is rolled back, and the outputs say what still runs.
    expect(bad.rt.outputs.status).toBe('failed');
    expect(JSON.parse(bad.rt.outputs.deployed)).toEqual({ web: '1.0.0' });
    expect(bad.error?.message).toMatch(/; nothing changed for web \(still 1\.0\.0\)$/);
    expect(bad.rt.text()).not.toMatch(/Rolling back|traffic never left it/);
  });

  test('a stop that fails after a healthy switch is a warning: the new version stays live, nothing is rolled back', async () => {
    nginx = await startNginx({ proxyPass: `http://unix:${work}/live.sock:` });
    configure({
      switch: 'socket',
      link: `${work}/live.sock`,
      drain: 0,
      stop: `${STOP}; echo "stop: permission denied" >&2; exit 1`,
    });
    expect((await deploy('1.0.0')).error).toBeUndefined();
    const r = await deploy('1.1.0');
    expect(r.error).toBeUndefined();
    expect(r.rt.outputs.status).toBe('success');
    expect(JSON.parse(r.rt.outputs.deployed)).toEqual({ web: '1.1.0' });
    expect(r.rt.text()).toMatch(
      /warning: stop \(blue\) on this machine exited with 1: stop: permission denied; 1\.0\.0 may still run on blue/,
    );
    expect(await fetch(nginx.url).then((res) => res.text())).toBe('1.1.0');
  });

  test('canary: the split puts the canary’s share of 2,000 requests within 2 points of each weight', async () => {
    // Split on a key the client sends (client-0 … client-1999): the same sample on every run,
    // where ${request_id} would make a 2-point bound fail one run in ten by chance alone.
    const key = '${http_x_request_key}';
    const upstream = path.join(work, 'upstream.conf');
    writeFileSync(upstream, upstreamFile('slipway_web', slots(), 'blue', 0));
    nginx = await startNginx({ proxyPass: 'http://$slipway_web', httpExtra: `  include ${upstream};` });
    const started = ['blue', 'green'].map((slot, i) =>
      execFileSync('sh', ['-c', START], {
        env: {
          ...process.env,
          SLOT_SERVER: SERVER,
          WORK: work,
          SLIPWAY_SLOT: slot,
          SLIPWAY_SLOT_ADDRESS: slots()[slot as 'blue'],
          SLIPWAY_VERSION: `v${i}`,
        },
      }),
    );
    expect(started).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 500));
    for (const weight of [10, 25, 50]) {
      writeFileSync(upstream, upstreamFile('slipway_web', slots(), 'blue', weight, key));
      execFileSync(nginxBin(), ['-p', nginx.prefix, '-c', nginx.config, '-s', 'reload']);
      await new Promise((r) => setTimeout(r, 700));
      const load = await runLoad({
        url: nginx.url,
        total: 2000,
        concurrency: 10,
        keepAlive: true,
        headers: (n) => ({ 'x-request-key': `client-${n}` }),
      });
      const share = ((load.versions.v1 ?? 0) / 2000) * 100;
      expect(Math.abs(share - weight)).toBeLessThanOrEqual(2);
    }
  });

  test('canary: a version with a 30% error rate is aborted at its first step and then gets none of 2,000 requests', async () => {
    const upstream = path.join(work, 'upstream.conf');
    writeFileSync(upstream, upstreamFile('slipway_web', slots(), 'blue', 0));
    nginx = await startNginx({ proxyPass: 'http://$slipway_web', httpExtra: `  include ${upstream};` });
    configure({
      switch: 'reload',
      upstream,
      config: nginx.config,
      nginx: nginxBin(),
      prefix: nginx.prefix,
      strategy: 'canary',
      steps: [
        { weight: 10, hold: 20 },
        { weight: 50, hold: 5 },
      ],
      abort: { maxErrorRate: 0.1, minRequests: 20, accessLog: nginx.accessLog },
    });
    expect((await deploy('1.0.0')).error).toBeUndefined();
    const changes = deploy('1.1.0', {}, { FAIL_VERSION: '1.1.0' });
    await runLoad({ url: nginx.url, total: 3000, concurrency: 10, keepAlive: true, until: changes });
    const r = await changes;
    expect(r.error?.message).toMatch(
      /canary 1\.1\.0 aborted at 10%: \d+ of \d+ requests failed \(\d+%, more than 10%\); all traffic back on blue/,
    );
    const after = await runLoad({ url: nginx.url, total: 2000, concurrency: 10, keepAlive: true });
    expect(after.versions['1.1.0'] ?? 0).toBe(0);
    expect(after.non2xx).toBe(0);
    expect(running()).toEqual(['blue']);
  });
});
