/**
 * One version, one commit: a component whose files did not change between two commits may
 * keep its version. For a migrations component "its files" are its migrations folder (it has
 * no paths of its own), read by git in a real repository.
 */
import { parseConfig } from '../../src/core/config.js';
import { sameComponentContent, versionClashes } from '../../src/deploy/version-rules.js';
import type { PlanStep } from '../../src/deploy/plan.js';
import type { DeploymentEntry } from '../../src/deploy/record/record.js';
import { createRepo, type TestRepo } from '../helpers/git-repo.js';

let repo: TestRepo;
afterEach(() => repo?.cleanup());

const POLICY = [
  'components:',
  '  schema:',
  '    migrate: { dir: db/migrations }',
  '  api:',
  '    paths: [api/**]',
  '    dependsOn: [schema]',
  '    deploy: { run: "true" }',
  'environments:',
  '  staging: {}',
  '',
].join('\n');

test('a migrations component whose folder did not change keeps its version on a later commit', async () => {
  repo = createRepo();
  const first = repo.commit('feat: schema and api', {
    'db/migrations/001_init.sql': 'create table t (id int);\n',
    'api/main.txt': '1\n',
  });
  const second = repo.commit('fix(api): api only', { 'api/main.txt': '2\n' });
  const third = repo.commit('feat(db): a migration', { 'db/migrations/002_more.sql': 'create table u (id int);\n' });
  const config = parseConfig(POLICY, '.github/slipway.yml', repo.dir);

  expect(await sameComponentContent(config, repo.dir, second)('schema', first)).toBe(true);
  expect(await sameComponentContent(config, repo.dir, third)('schema', first)).toBe(false);
  expect(await sameComponentContent(config, repo.dir, second)('api', first)).toBe(false);

  // What deploy checks: schema 0.1.0 was deployed from the first commit; the second commit
  // carries the same schema 0.1.0 and a new api, and is not refused for it.
  const history = [
    { id: 1, task: 'deploy', sha: first, versions: { schema: '0.1.0', api: '0.1.0' } },
  ] as unknown as DeploymentEntry[];
  const steps = [
    { component: 'schema', next: '0.1.0' },
    { component: 'api', next: '0.1.1' },
  ] as unknown as PlanStep[];
  expect(await versionClashes(steps, history, second, sameComponentContent(config, repo.dir, second))).toEqual([]);
  const clashes = await versionClashes(steps, history, third, sameComponentContent(config, repo.dir, third));
  expect(clashes.map((c) => `${c.component} ${c.version} #${c.deployment}`)).toEqual(['schema 0.1.0 #1']);
});

test('paths are read as build-selective reads them: an excluded file and a plain folder path', async () => {
  repo = createRepo();
  const first = repo.commit('feat: api', { 'api/main.txt': '1\n', 'api/docs/guide.md': '1\n', 'svc/a/f': '1\n' });
  const docs = repo.commit('docs: guide', { 'api/docs/guide.md': '2\n' });
  const svc = repo.commit('fix: svc a', { 'svc/a/f': '2\n' });
  const config = parseConfig(
    [
      'components:',
      '  api: { paths: [api/**, "!api/docs/**"], deploy: { run: "true" } }',
      '  svc: { paths: [svc/a], deploy: { run: "true" } }',
      'environments:',
      '  staging: {}',
      '',
    ].join('\n'),
    '.github/slipway.yml',
    repo.dir,
  );
  // A docs-only change releases no new api, so its version may stay on the later commit.
  expect(await sameComponentContent(config, repo.dir, docs)('api', first)).toBe(true);
  // svc/a is the folder: a change in it is a change of svc.
  expect(await sameComponentContent(config, repo.dir, svc)('svc', docs)).toBe(false);
  expect(await sameComponentContent(config, repo.dir, docs)('svc', first)).toBe(true);
});
