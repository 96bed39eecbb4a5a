/**
 * The demo's sample product: a backend API with migrations, a bot and a frontend as small
 * Node HTTP services over a shared library, with a policy file whose deploy commands
 * "release" a build to a folder and (re)start it on a local port.
 */

/** Ports the demo picked for the three services. */
export interface DemoPorts {
  backend: number;
  bot: number;
  frontend: number;
}

const SHARED = `// The shared library every service uses.
export function banner(service, version) {
  return \`\${service} \${version}\`;
}
`;

function service(name: string, extra: string): string {
  return `import { createServer } from 'node:http';
import { banner } from './shared/greeting.js';

const version = process.env.SLIPWAY_VERSION ?? 'dev';
const port = Number(process.env.PORT);
${extra}
createServer((req, res) => {
  if (req.url === '/health') {
    const body = health();
    res.writeHead(body.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...body, service: '${name}', version }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(banner('${name}', version) + '\\n');
}).listen(port, '127.0.0.1');
`;
}

/** The bot's health, healthy or (for the demo's second run) broken. */
export function botSource(broken: boolean): string {
  return service(
    'bot',
    broken
      ? `// Reads a token the deploy never sets: health reports the failure.
function health() {
  return process.env.BOT_TOKEN ? { status: 'ok' } : { status: 'error', reason: 'BOT_TOKEN missing' };
}`
      : `function health() {
  return { status: 'ok' };
}`,
  );
}

/** A supervisor the deploy commands call: copy a build into place and (re)start it. */
const SERVE = `// usage: node scripts/serve.mjs <component> <version> <port>
// Starts the build of <version> from $DEMO_HOME/artifacts, stopping the one running before.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [component, version, port] = process.argv.slice(2);
const home = process.env.DEMO_HOME;
const build = path.join(home, 'artifacts', component, version);
if (!existsSync(path.join(build, 'server.js'))) {
  console.error(\`no build of \${component} \${version} in \${build}\`);
  process.exit(1);
}
mkdirSync(path.join(home, 'run'), { recursive: true });
const pidFile = path.join(home, 'run', \`\${component}.pid\`);
if (existsSync(pidFile)) {
  const old = Number(readFileSync(pidFile, 'utf8'));
  try {
    process.kill(old, 'SIGTERM');
    for (let i = 0; i < 50; i++) {
      process.kill(old, 0);
      await new Promise((r) => setTimeout(r, 20));
    }
  } catch {
    // stopped
  }
}
const log = openSync(path.join(home, 'run', \`\${component}.log\`), 'a');
const child = spawn(process.execPath, [path.join(build, 'server.js')], {
  detached: true,
  stdio: ['ignore', log, log],
  env: { ...process.env, PORT: port, SLIPWAY_VERSION: version },
});
writeFileSync(pidFile, String(child.pid));
child.unref();
console.log(\`started \${component} \${version} on port \${port} (pid \${child.pid})\`);
`;

/** The build step: a copy of the service and the shared library, by version. */
const BUILD =
  'mkdir -p "$DEMO_HOME/artifacts/$SLIPWAY_COMPONENT/$SLIPWAY_VERSION/shared" && cp services/$SLIPWAY_COMPONENT/*.js "$DEMO_HOME/artifacts/$SLIPWAY_COMPONENT/$SLIPWAY_VERSION/" && cp libs/shared/*.js "$DEMO_HOME/artifacts/$SLIPWAY_COMPONENT/$SLIPWAY_VERSION/shared/"';

/** The policy file of the sample product. */
function policyFile(ports: DemoPorts): string {
  const app = (name: string, port: number, deps: string[]) => `  ${name}:
    paths: [services/${name}/**]
    dependsOn: [${deps.join(', ')}]
    build: { run: '${BUILD}' }
    deploy:
      target: command
      run: node scripts/serve.mjs "$SLIPWAY_COMPONENT" "$SLIPWAY_VERSION" ${port}
      timeout: 60
    health:
      - { name: ${name} health, http: "http://127.0.0.1:${port}/health", expect: { status: 200, json: { status: ok } } }
`;
  return `# The sample product of \`npm run demo\`.
versioning:
  tag: "v{version}"
  initial: 0.1.0
components:
  shared: { kind: library, paths: [libs/shared/**] }
  database: { kind: data }
  schema:
    kind: migrations
    dependsOn: [database]
    paths: [services/backend/migrations/**]
    migrate: { dir: services/backend/migrations, database: { env: DATABASE_URL } }
${app('backend', ports.backend, ['shared', 'schema'])}${app('bot', ports.bot, ['shared', 'backend'])}${app('frontend', ports.frontend, ['backend'])}environments:
  local: { url: "http://127.0.0.1:${ports.frontend}" }
`;
}

/** Every file of the sample repository. */
export function sampleFiles(ports: DemoPorts): Record<string, string> {
  return {
    '.github/slipway.yml': policyFile(ports),
    '.gitignore': '.slipway/\n',
    'README.md': '# Acme shop\n\nA sample product for the Slipway demo.\n',
    'libs/shared/greeting.js': SHARED,
    'services/backend/server.js': service('backend', "function health() {\n  return { status: 'ok', db: true };\n}"),
    'services/backend/migrations/001_create_orders.sql':
      'CREATE TABLE orders (\n  id serial PRIMARY KEY,\n  customer text NOT NULL,\n  total_cents integer NOT NULL\n);\n',
    'services/backend/migrations/002_add_order_status.sql':
      "ALTER TABLE orders ADD COLUMN status text DEFAULT 'new';\n",
    'services/bot/server.js': botSource(false),
    'services/frontend/server.js': service('frontend', "function health() {\n  return { status: 'ok' };\n}"),
    'scripts/serve.mjs': SERVE,
  };
}
