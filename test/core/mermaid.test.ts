/** Mermaid graphs with hostile component names parse with mermaid's own parser, one node each. */
import { stringify } from 'yaml';
import { mermaid, mermaidGraph } from '../../src/core/graph.js';
import { runDeploy } from '../../src/deploy/deploy.js';
import { FileLedger } from '../../src/deploy/record/file-ledger.js';
import { parseFlowchart } from '../helpers/mermaid.js';
import { createProduct, logged, loggedRollback, type Product } from '../deploy/fixture.js';

const HOSTILE = ['end', 'class', 'style', 'graph', 'subgraph', 'web-app', 'web.app', 'web_app', 'click', 'flowchart'];

test('keywords and look-alike names are distinct nodes labelled with their names', async () => {
  const deps: Record<string, string[]> = Object.fromEntries(HOSTILE.map((n, i) => [n, i ? [HOSTILE[i - 1]] : []]));
  const chart = await parseFlowchart(mermaid(deps, new Set(['end', 'web.app'])));
  expect(chart.nodes.map((n) => n.label)).toEqual(HOSTILE);
  expect(new Set(chart.nodes.map((n) => n.id)).size).toBe(HOSTILE.length);
  expect(chart.edges).toHaveLength(HOSTILE.length - 1);
  const label = (id: string) => chart.nodes.find((n) => n.id === id)!.label;
  expect(chart.edges.map(([a, b]) => `${label(a)}>${label(b)}`)).toEqual(
    HOSTILE.slice(1).map((n, i) => `${HOSTILE[i]}>${n}`),
  );
  expect(chart.nodes.filter((n) => n.classes.includes('selected')).map((n) => n.label)).toEqual(['end', 'web.app']);
});

test('labels with quotes, markup and # draw as written', async () => {
  const names = ['a"b', '<b>bold</b>', 'x#y;', 'amp&co', 'back`tick'];
  const chart = await parseFlowchart(mermaidGraph(Object.fromEntries(names.map((n) => [n, []]))));
  expect(chart.nodes.map((n) => n.label)).toEqual(names);
});

describe("the deploy summary's graph", () => {
  let p: Product;
  beforeAll(async () => {
    p = await createProduct();
  });
  afterAll(async () => {
    await p.close();
  });

  test('colours each component by how it ended: deployed, rolled back, failed, skipped', async () => {
    p.writeConfig(
      stringify({
        components: {
          end: { deploy: { run: logged(), rollback: loggedRollback() } },
          'web.app': { dependsOn: ['end'], deploy: { run: logged(), rollback: 'exit 7' } },
          'web-app': {
            dependsOn: ['end'],
            deploy: { run: logged(), rollback: loggedRollback() },
            health: [{ http: '/health/web-app' }],
          },
          web_app: { dependsOn: ['web-app', 'web.app'], deploy: { run: logged() } },
          class: { kind: 'library', paths: ['lib/**'] },
        },
        environments: { staging: { url: p.url } },
      }),
    );
    const run = async (version: string) => {
      const rt = p.runtime();
      await runDeploy({
        inputs: p.inputs({ environment: 'staging', version, timeout: '1', parallel: '1' }),
        record: new FileLedger(p.dir),
        runtime: rt,
      }).catch(() => undefined);
      return rt;
    };
    const first = await run('1.0.0');
    const okChart = await parseFlowchart(/```mermaid\n[\s\S]*?\n```/.exec(first.summaries.join('\n'))![0]);
    const classOf = (chart: typeof okChart, label: string) => chart.nodes.find((n) => n.label === label)!.classes;
    expect(classOf(okChart, 'web_app')).toEqual(['deployed']);
    expect(classOf(okChart, 'class')).toEqual(['skipped']);

    // web-app's 1.1.0 is unhealthy: end and web-app go back, web.app's rollback command fails, web_app never runs.
    p.bad.set('web-app', new Set(['1.1.0']));
    const second = await run('1.1.0');
    const chart = await parseFlowchart(/```mermaid\n[\s\S]*?\n```/.exec(second.summaries.join('\n'))![0]);
    expect(Object.fromEntries(chart.nodes.map((n) => [n.label, n.classes]))).toEqual({
      end: ['rolledBack'],
      'web-app': ['rolledBack'],
      'web.app': ['failed'],
      web_app: ['skipped'],
      class: ['skipped'],
    });
  });
});
