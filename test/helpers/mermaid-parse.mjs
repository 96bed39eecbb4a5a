// Parse Mermaid flowcharts with mermaid's own parser, in a plain Node process: jsdom (the DOM
// mermaid's DOMPurify needs) loads ESM through require(), which Jest's module loader refuses.
// stdin: a JSON array of chart texts; stdout: a JSON array of {nodes, edges} or {error}.
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const mermaid = (await import('mermaid')).default;

// mermaid keeps entity codes (#34; #quot;) encoded in its own way until it renders.
const decode = (text) =>
  text
    .replace(/ﬂ°°(\d+)¶ß/g, (_, n) => String.fromCodePoint(Number(n)))
    .replace(/ﬂ°([a-z]+)¶ß/gi, (_, name) => ({ quot: '"', amp: '&', lt: '<', gt: '>' })[name] ?? `#${name};`);

let input = '';
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const text of JSON.parse(input)) {
  try {
    await mermaid.parse(text);
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
    out.push({
      nodes: [...diagram.db.getVertices().values()].map((v) => ({
        id: v.id,
        label: decode(v.text),
        classes: v.classes,
      })),
      edges: diagram.db.getEdges().map((e) => [e.start, e.end]),
    });
  } catch (err) {
    out.push({ error: String(err.message ?? err).split('\n')[0] });
  }
}
process.stdout.write(JSON.stringify(out));
