/**
 * GitHub's log viewer folds one level of groups and nothing interleaved: the runner's log
 * must have no group inside a group and no two groups open at once, and each group's lines
 * must be its own, whether the work in it ran in parallel or nested.
 */
import { stringify } from 'yaml';
import { groupedLog } from '../../src/actions/github-runtime.js';
import { sleep } from '../../src/core/retry.js';
import { runBundledAction } from '../helpers/run-action.js';
import { createProduct, type Product } from '../deploy/fixture.js';

/** Parse a runner log: the groups in order with their lines; throws on a nested or unclosed group. */
function parseGroups(log: string): { name: string; lines: string[] }[] {
  const groups: { name: string; lines: string[] }[] = [];
  let open: { name: string; lines: string[] } | null = null;
  for (const line of log.split('\n')) {
    if (line.startsWith('::group::')) {
      if (open) throw new Error(`group "${line.slice(9)}" opened inside "${open.name}"`);
      open = { name: line.slice(9), lines: [] };
    } else if (line.startsWith('::endgroup::')) {
      if (!open) throw new Error('::endgroup:: without a group');
      groups.push(open);
      open = null;
    } else if (open) open.lines.push(line);
  }
  if (open) throw new Error(`group "${open.name}" never closed`);
  return groups;
}

test('parallel and nested groups come out whole and flat', async () => {
  const out: string[] = [];
  const log = groupedLog({
    line: (l) => out.push(l),
    open: (name) => out.push(`::group::${name}`),
    close: () => out.push('::endgroup::'),
  });
  const work = (name: string, steps: number, delay: number) =>
    log.group(name, async () => {
      for (let i = 0; i < steps; i++) {
        log.line(`${name} ${i}`);
        await sleep(delay);
        if (i === 1)
          await log.group(`${name} inner`, async () => {
            log.line(`${name} inner line`);
            await Promise.all([
              log.group(`${name} a`, async () => (await sleep(5), log.line(`${name} a line`))),
              log.group(`${name} b`, async () => (await sleep(1), log.line(`${name} b line`))),
            ]);
          });
      }
    });
  log.line('before');
  await Promise.all([work('one', 4, 7), work('two', 3, 3), work('three', 2, 11)]);
  log.line('after');
  const groups = parseGroups(out.join('\n'));
  expect(groups.map((g) => g.name).sort()).toEqual(['one', 'three', 'two']);
  for (const g of groups) {
    // Every line of a group is its own, and nested work is headed lines, contiguous.
    expect(g.lines.every((l) => l.includes(g.name))).toBe(true);
    const a = g.lines.indexOf(`── ${g.name} a`);
    expect(g.lines.slice(a, a + 2)).toEqual([`── ${g.name} a`, `${g.name} a line`]);
    const b = g.lines.indexOf(`── ${g.name} b`);
    expect(g.lines.slice(b, b + 2)).toEqual([`── ${g.name} b`, `${g.name} b line`]);
  }
  expect(groups.find((g) => g.name === 'one')!.lines.filter((l) => /^one \d$/.test(l))).toEqual([
    'one 0',
    'one 1',
    'one 2',
    'one 3',
  ]);
  expect(out[0]).toBe('before');
  expect(out.at(-1)).toBe('after');
});

describe('the bundled deploy', () => {
  let p: Product;
  beforeAll(async () => {
    p = await createProduct();
  });
  afterAll(async () => {
    await p.close();
  });

  test('with parallel > 1, each component is one group of its own lines', async () => {
    const chatty = (n: string) => `for i in 1 2 3 4 5; do echo "${n} line $i"; sleep 0.05; done`;
    p.writeConfig(
      stringify({
        components: {
          db: { kind: 'data', deploy: { run: 'echo db up' } },
          api: { dependsOn: ['db'], deploy: { run: chatty('api') } },
          bot: { dependsOn: ['db'], deploy: { run: chatty('bot') } },
          web: { dependsOn: ['db'], deploy: { run: chatty('web') } },
        },
        environments: { staging: { url: p.url } },
      }),
    );
    const run = await runBundledAction('deploy', {
      cwd: p.dir,
      inputs: { environment: 'staging', version: '1.0.0', parallel: '3' },
    });
    expect(run.code).toBe(0);
    const groups = parseGroups(run.stdout);
    expect(groups.map((g) => g.name.split(' ').slice(0, 2).join(' ')).sort()).toEqual([
      'Deploy api',
      'Deploy bot',
      'Deploy db',
      'Deploy web',
    ]);
    for (const name of ['api', 'bot', 'web']) {
      const g = groups.find((x) => x.name.startsWith(`Deploy ${name} `))!;
      expect(g.lines.filter((l) => / line \d$/.test(l))).toEqual(
        [1, 2, 3, 4, 5].map((i) => `[${name}] ${name} line ${i}`),
      );
    }
  });
});
