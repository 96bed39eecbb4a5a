/**
 * The compose target against a private dockerd with docker-compose: 1.0.0 → 1.1.0 deploys
 * with the container healthcheck and the component's health checks; a 1.2.0 whose container
 * healthcheck fails is rolled back to 1.1.0, and status reads 1.1.0 from the running container.
 */
import { jest } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { createMemoryRuntime } from '../../src/core/memory-runtime.js';
import { execFile } from '../../src/core/exec.js';
import { runDeploy } from '../../src/deploy/deploy.js';
import { FileLedger } from '../../src/deploy/record/file-ledger.js';
import { TARGETS } from '../../src/deploy/targets/index.js';
import { upstreamFile } from '../../src/deploy/targets/nginx.js';
import { startDockerd, type Dockerd } from '../helpers/docker.js';
import { runLoad } from '../helpers/load.js';
import { nginxAvailable, nginxBin, startNginx, type TestNginx } from '../helpers/nginx.js';
import { createProduct, type Product } from './fixture.js';

jest.setTimeout(240_000);

/**
 * The version's server on a Unix socket (argv[2]), for the socket switch: node from the host's
 * /usr, mounted read-only. SIGTERM finishes the requests in flight, then exits.
 */
const SOCKET_SERVER = `import http from 'node:http';
import { readFileSync, rmSync } from 'node:fs';
const socket = process.argv[2];
const version = readFileSync('/www/VERSION', 'utf8');
rmSync(socket, { force: true });
const server = http.createServer((req, res) => res.writeHead(200).end(version)).listen(socket);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

let docker: Dockerd | undefined;
let skip = '';
/**
 * Docker Compose v2, a docker CLI plugin that scripts/fetch-compose-v2.sh unpacks from
 * Debian's package (bookworm has only v1): DOCKER_CONFIG pointing here makes `docker compose` run.
 */
const COMPOSE_V2_CONFIG = path.resolve(import.meta.dirname, '../../.cache/compose-v2');
const composeV2 = existsSync(path.join(COMPOSE_V2_CONFIG, 'cli-plugins/docker-compose'));
let p: Product;
let record: FileLedger;
let port = 0;

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

/**
 * A compose service of the busybox images: httpd serving /www on `address` (host networking),
 * healthy once /www/ready answers (1.2.0's image lacks it).
 */
const httpdService = (
  variable: string,
  address: string,
  extra: Record<string, unknown> = {},
  /** Failures in this first while do not count (set where no test waits for an unhealthy verdict). */
  startPeriod?: string,
) => ({
  image: `\${${variable}}`,
  network_mode: 'host',
  // busybox httpd as PID 1 ignores SIGTERM: without this each recreate waits out docker's 10 s.
  stop_grace_period: '1s',
  ...extra,
  command: ['/bin/httpd', '-f', '-p', address, '-h', '/www'],
  healthcheck: {
    test: ['CMD', '/bin/wget', '-q', '-O', '/dev/null', `http://${address}/ready`],
    interval: '1s',
    timeout: '2s',
    retries: 2,
    ...(startPeriod ? { start_period: startPeriod } : {}),
  },
});

beforeAll(async () => {
  const started = await startDockerd();
  if ('skip' in started) {
    skip = started.skip;
    // Skipped, never silently: the reason is printed.
    console.warn(`compose target tests skipped: ${skip}`);
    return;
  }
  docker = started;
  port = await freePort();
  // Each version serves /www/VERSION; 1.2.0 lacks /www/ready, which its container healthcheck reads.
  for (const version of ['1.0.0', '1.1.0', '1.2.0'])
    await docker.importImage(`example/api:${version}`, {
      'www/VERSION': `${version}\n`,
      ...(version === '1.2.0' ? {} : { 'www/ready': 'ok\n' }),
      'srv/server.mjs': SOCKET_SERVER,
    });
  p = await createProduct();
  record = new FileLedger(p.dir);
  writeFileSync(
    path.join(p.dir, 'compose.yaml'),
    stringify({
      services: {
        api: httpdService('API_IMAGE', `127.0.0.1:${port}`),
      },
    }),
  );
  p.writeConfig(
    stringify({
      components: {
        api: {
          deploy: {
            target: 'compose',
            file: 'compose.yaml',
            project: 'shop',
            service: 'api',
            image: 'example/api:{version}',
            timeout: 60,
          },
          health: [{ http: `http://127.0.0.1:${port}/VERSION`, expect: { status: 200 } }],
        },
      },
      environments: { production: { url: `http://127.0.0.1:${port}` } },
    }),
  );
});

let nginx: TestNginx | undefined;

afterAll(async () => {
  nginx?.stop();
  if (docker) {
    // Each project's containers go, then dockerd (by its PID).
    for (const [project, file] of [
      ['shop', 'compose.yaml'],
      ['zd', 'zd.yaml'],
      ['zds', 'zds.yaml'],
    ])
      await execFile('docker-compose', ['-p', project, '-f', path.join(p.dir, file), 'down', '-t', '1'], {
        env: { ...docker.env, API_IMAGE: 'unused', WEB_IMAGE: 'unused' },
        timeoutMs: 60_000,
      }).catch(() => undefined);
    await execFile('docker-compose', ['-p', 'two', '-f', path.join(p.dir, 'two.yaml'), 'down', '-t', '1'], {
      env: { ...docker.env, WEB2_IMAGE: 'unused', CRASHER_IMAGE: 'unused' },
      timeoutMs: 60_000,
    }).catch(() => undefined);
    if (composeV2)
      await execFile('docker', ['compose', '-p', 'shopv2', '-f', path.join(p.dir, 'v2.yaml'), 'down', '-t', '1'], {
        env: { ...docker.env, DOCKER_CONFIG: COMPOSE_V2_CONFIG, APIV2_IMAGE: 'unused' },
        timeoutMs: 60_000,
      }).catch(() => undefined);
    await docker.stop();
  }
  await p?.close();
});

/**
 * Deploy with these inputs. Without `env`, the docker CLI's configuration is an empty folder,
 * so a compose v2 plugin in the user's ~/.docker cannot stand in for v1 in the v1 tests.
 */
async function deploy(values: Record<string, string>, env: NodeJS.ProcessEnv = { DOCKER_CONFIG: p.dir }) {
  const rt = createMemoryRuntime({ cwd: p.dir, env: { ...docker!.env, ...env } });
  let error: Error | undefined;
  try {
    await runDeploy({
      inputs: p.inputs({ environment: 'production', timeout: '20', ...values }),
      record,
      runtime: rt,
      targets: TARGETS,
    });
  } catch (err) {
    error = err as Error;
  }
  return { rt, error };
}

const served = async () => (await fetch(`http://127.0.0.1:${port}/VERSION`)).text().then((t) => t.trim());

test('compose: 1.0.0 then 1.1.0 deploy, health-checked; a 1.2.0 failing its container healthcheck goes back to 1.1.0', async () => {
  if (!docker) return console.warn(`skipped: ${skip}`);
  const first = await deploy({ version: '1.0.0' });
  expect(first.error).toBeUndefined();
  expect(first.rt.outputs.status).toBe('success');
  expect(await served()).toBe('1.0.0');
  expect(first.rt.text()).toContain('ran docker-compose (v1): up -d --no-deps api with API_IMAGE=example/api:1.0.0');
  expect(first.rt.text()).toContain('api: container healthcheck healthy (example/api:1.0.0)');
  expect(JSON.parse(first.rt.outputs.plan).waves[0][0].commands.run).toMatch(
    /up -d --no-deps api \(docker-compose v1 when docker compose v2 is absent\); .*brief outage/,
  );

  const second = await deploy({ version: '1.1.0' });
  expect(second.rt.outputs.status).toBe('success');
  expect(await served()).toBe('1.1.0');

  const bad = await deploy({ version: '1.2.0' });
  expect(bad.rt.outputs.status).toBe('rolled-back');
  expect(bad.error?.message.includes('\n')).toBe(false);
  expect(bad.error?.message).toMatch(
    /failed at api 1\.2\.0: compose service api is unhealthy with example\/api:1\.2\.0 \(its container healthcheck failed\); rolled back/,
  );
  expect(await served()).toBe('1.1.0');

  // status: the image tag of the running container, read in a dry run.
  const dry = await deploy({ version: '1.3.0', 'dry-run': 'true' });
  expect(dry.rt.text()).toContain('api on production: running 1.1.0 (status command).');
  expect(dry.rt.text()).toMatch(
    /api run: API_IMAGE=example\/api:\$SLIPWAY_VERSION docker compose -f compose\.yaml -p shop up -d --no-deps api \(docker-compose v1 when docker compose v2 is absent\); .*brief outage/,
  );

  // v1 ran: it names containers <project>_<service>_<n> (v2 uses "-").
  const ps = await execFile('docker', ['ps', '--format', '{{.Names}} {{.Image}}'], { env: docker.env });
  expect(ps.stdout).toMatch(/^shop_api_1 example\/api:1\.1\.0$/m);

  // The user's compose file was never edited.
  expect(readFileSync(path.join(p.dir, 'compose.yaml'), 'utf8')).toContain('image: ${API_IMAGE}');
});

test('compose v2: with docker compose (v2) and docker-compose (v1) both present, v2 runs the same deploy, rollback and status', async () => {
  if (!docker) return console.warn(`skipped: ${skip}`);
  // Skipped, never silently: .ci/run fetches it; a machine without it says why.
  if (!composeV2)
    return console.warn('compose v2 test skipped: run scripts/fetch-compose-v2.sh to fetch Docker Compose v2');
  const v2 = { DOCKER_CONFIG: COMPOSE_V2_CONFIG };
  expect((await execFile('docker', ['compose', 'version'], { env: { ...docker.env, ...v2 } })).stdout).toMatch(
    /Docker Compose version v?2\./,
  );
  expect((await execFile('docker-compose', ['version', '--short'], { env: docker.env })).stdout).toMatch(/^1\./);
  const port2 = await freePort();
  writeFileSync(
    path.join(p.dir, 'v2.yaml'),
    stringify({
      services: {
        apiv2: httpdService('APIV2_IMAGE', `127.0.0.1:${port2}`),
      },
    }),
  );
  p.writeConfig(
    stringify({
      components: {
        apiv2: {
          deploy: {
            target: 'compose',
            file: 'v2.yaml',
            project: 'shopv2',
            service: 'apiv2',
            image: 'example/api:{version}',
            timeout: 60,
          },
          health: [{ http: `http://127.0.0.1:${port2}/VERSION`, expect: { status: 200 } }],
        },
      },
      environments: { preview: { url: `http://127.0.0.1:${port2}` } },
    }),
  );
  const servedV2 = async () => (await fetch(`http://127.0.0.1:${port2}/VERSION`)).text().then((t) => t.trim());
  const at = (values: Record<string, string>) => deploy({ environment: 'preview', ...values }, v2);

  const first = await at({ version: '1.0.0' });
  expect(first.error).toBeUndefined();
  expect(first.rt.text()).toContain(
    'ran docker compose (v2): up -d --no-deps apiv2 with APIV2_IMAGE=example/api:1.0.0',
  );
  expect(first.rt.text()).toContain('apiv2: container healthcheck healthy (example/api:1.0.0)');
  expect(await servedV2()).toBe('1.0.0');
  expect((await at({ version: '1.1.0' })).rt.outputs.status).toBe('success');
  expect(await servedV2()).toBe('1.1.0');

  const bad = await at({ version: '1.2.0' });
  expect(bad.rt.outputs.status).toBe('rolled-back');
  expect(bad.error?.message).toMatch(
    /failed at apiv2 1\.2\.0: compose service apiv2 is unhealthy with example\/api:1\.2\.0 \(its container healthcheck failed\); rolled back/,
  );
  expect(await servedV2()).toBe('1.1.0');
  const dry = await at({ version: '1.3.0', 'dry-run': 'true' });
  expect(dry.rt.text()).toContain('apiv2 on preview: running 1.1.0 (status command).');
  // The container really is v2's: compose v2 names containers <project>-<service>-<n>.
  const ps = await execFile('docker', ['ps', '--format', '{{.Names}} {{.Image}}'], { env: docker.env });
  expect(ps.stdout).toMatch(/^shopv2-apiv2-1 example\/api:1\.1\.0$/m);
});

test('compose zeroDowntime: blue-green behind nginx, a deploy and a rollback under 4,000 requests lose no request to a 502 or a non-2xx', async () => {
  if (!docker) return console.warn(`skipped: ${skip}`);
  if (!nginxAvailable()) return console.warn('skipped: nginx is not installed');
  const ports = { blue: await freePort(), green: await freePort() };
  const slots = { blue: `127.0.0.1:${ports.blue}`, green: `127.0.0.1:${ports.green}` };
  // A start period, as a production service would have: under the full suite's load the first two
  // healthchecks of a starting container can miss, and no version here is meant to be unhealthy.
  const service = (slot: 'blue' | 'green') => httpdService('WEB_IMAGE', slots[slot], { init: true }, '30s');
  writeFileSync(
    path.join(p.dir, 'zd.yaml'),
    stringify({ services: { 'web-blue': service('blue'), 'web-green': service('green') } }),
  );
  const upstream = path.join(p.dir, 'upstream.conf');
  writeFileSync(upstream, upstreamFile('slipway_web', slots, 'blue', 0));
  nginx = await startNginx({ proxyPass: 'http://$slipway_web', httpExtra: `  include ${upstream};` });
  p.writeConfig(
    stringify({
      components: {
        web: {
          deploy: {
            target: 'compose',
            zeroDowntime: true,
            file: 'zd.yaml',
            project: 'zd',
            service: 'web',
            image: 'example/api:{version}',
            variable: 'WEB_IMAGE',
            slots,
            switch: 'reload',
            upstream,
            config: nginx.config,
            nginx: nginxBin(),
            prefix: nginx.prefix,
            drain: 1,
            timeout: 60,
          },
          health: [{ http: '/VERSION' }],
        },
      },
      environments: { staging: { url: nginx.url } },
    }),
  );
  const run = async (values: Record<string, string>) => {
    const r = await deploy({ environment: 'staging', ...values });
    expect(r.error).toBeUndefined();
    return r;
  };
  const first = await run({ version: '1.0.0' });
  expect(first.rt.text()).toContain('slots are compose services web-blue and web-green, run with docker-compose (v1)');
  expect(JSON.parse(first.rt.outputs.plan).waves[0][0].commands.run).toContain(
    'WEB_IMAGE=example/api:$SLIPWAY_VERSION docker compose up -d --no-deps web-<idle slot>',
  );
  const changes = (async () => {
    await run({ version: '1.1.0' });
    await run({ version: '', rollback: 'true' });
  })();
  // Without client keep-alive: nginx's reload resets idle kept-alive client connections (docs/deploy.md).
  const load = await runLoad({
    url: nginx.url,
    path: '/VERSION',
    total: 4000,
    concurrency: 10,
    keepAlive: false,
    until: changes,
  });
  await changes;
  expect(load.sent).toBeGreaterThanOrEqual(4000);
  expect(load.statuses[502] ?? 0).toBe(0);
  expect(load.non2xx).toBe(0);
  // nginx's reload closes connections its old workers accepted but had not read yet: the
  // reload switch's bound, as in the nginx target's tests (docs/deploy.md).
  const resets = Object.values(load.errors).reduce((a, b) => a + b, 0);
  expect(resets).toBeLessThanOrEqual(Math.ceil((10 * load.sent) / 4000));
  expect(Object.keys(load.versions).sort()).toEqual(['1.0.0\n', '1.1.0\n']);
  // Only the rolled-back version's slot is left running.
  const ps = await execFile('docker', ['ps', '--format', '{{.Names}} {{.Image}}'], { env: docker.env });
  expect(
    ps.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('zd_')),
  ).toEqual([expect.stringMatching(/ example\/api:1\.0\.0$/)]);
});

test('compose zeroDowntime, socket switch: a deploy and a rollback under 4,000 kept-alive requests lose none', async () => {
  if (!docker) return console.warn(`skipped: ${skip}`);
  if (!nginxAvailable()) return console.warn('skipped: nginx is not installed');
  nginx?.stop();
  const sockets = path.join(p.dir, 'sockets');
  mkdirSync(sockets);
  const slots = { blue: `unix:${sockets}/blue.sock`, green: `unix:${sockets}/green.sock` };
  const service = (slot: 'blue' | 'green') => ({
    image: '${WEB_IMAGE}',
    network_mode: 'none',
    init: true,
    volumes: ['/usr:/usr:ro', `${sockets}:${sockets}`],
    command: ['/usr/bin/node', '/srv/server.mjs', `${sockets}/${slot}.sock`],
    healthcheck: {
      test: [
        'CMD',
        '/usr/bin/node',
        '-e',
        "require('http').get({ socketPath: process.argv[1], path: '/' }, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))",
        `${sockets}/${slot}.sock`,
      ],
      interval: '1s',
      timeout: '2s',
      retries: 2,
      // As the blue-green test's: a starting container's first misses under load do not count.
      start_period: '30s',
    },
  });
  writeFileSync(
    path.join(p.dir, 'zds.yaml'),
    stringify({ services: { 'web-blue': service('blue'), 'web-green': service('green') } }),
  );
  nginx = await startNginx({ proxyPass: `http://unix:${sockets}/live.sock:` });
  p.writeConfig(
    stringify({
      components: {
        web: {
          deploy: {
            target: 'compose',
            zeroDowntime: true,
            file: 'zds.yaml',
            project: 'zds',
            service: 'web',
            image: 'example/api:{version}',
            variable: 'WEB_IMAGE',
            slots,
            switch: 'socket',
            link: `${sockets}/live.sock`,
            config: nginx.config,
            drain: 1,
            timeout: 60,
          },
          health: [{ http: '/' }],
        },
      },
      environments: { demo: { url: nginx.url } },
    }),
  );
  const run = async (values: Record<string, string>) => {
    const r = await deploy({ environment: 'demo', ...values });
    expect(r.error).toBeUndefined();
    return r;
  };
  await run({ version: '1.0.0' });
  const changes = (async () => {
    await run({ version: '1.1.0' });
    await run({ version: '', rollback: 'true' });
  })();
  const load = await runLoad({ url: nginx.url, total: 4000, concurrency: 10, keepAlive: true, until: changes });
  await changes;
  expect(load.sent).toBeGreaterThanOrEqual(4000);
  expect(load.errors).toEqual({});
  expect(load.non2xx).toBe(0);
  expect(Object.keys(load.versions).sort()).toEqual(['1.0.0\n', '1.1.0\n']);
  const ps = await execFile('docker', ['ps', '--format', '{{.Names}} {{.Image}}'], { env: docker.env });
  expect(
    ps.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('zds_')),
  ).toEqual([expect.stringMatching(/ example\/api:1\.0\.0$/)]);
});

test('compose: bad settings are one line naming the key, before anything runs', async () => {
  const { composeTarget } = await import('../../src/deploy/targets/compose.js');
  const build = (deploy: Record<string, unknown>) => {
    try {
      composeTarget({
        component: {} as never,
        deploy: { target: 'compose', ...deploy },
        errorAt: (key, message) => new Error(`${key}: ${message}`),
      });
      return 'ok';
    } catch (err) {
      return (err as Error).message;
    }
  };
  expect(build({ image: 'a:{version}' })).toBe(
    'service: a compose target needs "service" (the compose service to recreate)',
  );
  expect(build({ service: 'api', image: 'a:latest' })).toMatch(/^image: expected "\{version\}"/);
  expect(build({ service: 'api', image: 'a:{version}', env: { A: 1 } })).toBe(
    'env: expected a mapping of variable names to strings',
  );
  expect(build({ service: 'api', image: 'a:{version}', zeroDowntime: 'yes' })).toBe(
    'zeroDowntime: expected true or false',
  );
  expect(build({ service: 'api', image: 'a:{version}', zeroDowntime: true, ssh: { host: 'h' }, slots: {} })).toMatch(
    /^ssh: zeroDowntime compose runs here only/,
  );
  expect(build({ service: 'api', image: 'a:{version}' })).toBe('ok');
});

test('compose: a machine with neither docker compose (v2) nor docker-compose (v1) is one line naming both', async () => {
  const { composeTarget } = await import('../../src/deploy/targets/compose.js');
  const target = composeTarget({
    component: { name: 'api' } as never,
    deploy: { target: 'compose', service: 'api', image: 'example/api:{version}' },
    errorAt: (key, message) => new Error(`${key}: ${message}`),
  });
  // A PATH where neither program exists.
  const rt = createMemoryRuntime({ cwd: tmpdir(), env: { PATH: path.join(tmpdir(), 'slipway-no-such-bin') } });
  const ctx = {
    component: 'api',
    version: '1.0.0',
    previousVersion: '',
    environment: 'production',
    environmentUrl: '',
    sha: 'a'.repeat(40),
    cwd: tmpdir(),
    runtime: rt,
    onLine: () => undefined,
    checkHealth: () => Promise.resolve({ healthy: true }),
  };
  await expect(target.deploy(ctx as never)).rejects.toThrow(
    /^neither "docker compose" \(v2\) nor "docker-compose" \(v1\) runs on this machine: install the Compose v2 plugin \(or v1\)$/,
  );
});

test('compose: two components in one compose file deploy one at a time; a container that exits at once is named with its exit code and last line', async () => {
  if (!docker) return console.warn(`skipped: ${skip}`);
  const port2 = await freePort();
  // The file reads both components' variables: deploying one must not need the other's.
  writeFileSync(
    path.join(p.dir, 'two.yaml'),
    stringify({
      services: {
        web2: httpdService('WEB2_IMAGE', `127.0.0.1:${port2}`),
        crasher: {
          image: '${CRASHER_IMAGE}',
          network_mode: 'host',
          command: ['/bin/sh', '-c', 'echo starting; echo cannot open /data: permission denied >&2; exit 3'],
        },
      },
    }),
  );
  const component = (service: string) => ({
    deploy: {
      target: 'compose',
      file: 'two.yaml',
      project: 'two',
      service,
      image: 'example/api:{version}',
      timeout: 30,
    },
  });
  p.writeConfig(
    stringify({
      components: { web2: component('web2'), crasher: component('crasher') },
      environments: { production: { url: `http://127.0.0.1:${port2}` } },
    }),
  );
  // v2 refuses a file whose other services' variables are unset (v1 only warns).
  if (!composeV2) console.warn('compose v2 missing: the two-component deploy runs with v1 only');
  const v2 = composeV2 ? { DOCKER_CONFIG: COMPOSE_V2_CONFIG } : undefined;
  const web = await deploy({ version: '1.0.0', components: 'web2' }, v2);
  expect(web.error).toBeUndefined();
  expect((await (await fetch(`http://127.0.0.1:${port2}/VERSION`)).text()).trim()).toBe('1.0.0');

  const crash = await deploy({ version: '1.1.0', components: 'crasher' }, v2);
  expect(crash.error?.message).toMatch(
    /compose service crasher \(example\/api:1\.1\.0\) is exited \(code 3\): cannot open \/data: permission denied/,
  );
  // The other component's service was not touched.
  expect((await (await fetch(`http://127.0.0.1:${port2}/VERSION`)).text()).trim()).toBe('1.0.0');
});
