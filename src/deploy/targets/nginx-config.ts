/**
 * Reading an nginx configuration as nginx reads it: `nginx -T` prints every file it loaded
 * (the main one and each `include`, globs expanded, relative paths resolved), each after a
 * `# configuration file PATH:` line. Most real configurations keep their upstreams in an
 * included `conf.d/*.conf`, so a check of the main file alone misses them.
 */

/** One file of a configuration, with its text. */
export interface ConfigFile {
  path: string;
  text: string;
}

/** An upstream block that pools connections to the socket switch's link. */
export interface PooledUpstream {
  name: string;
  file: string;
  /** The line of its `keepalive` directive. */
  line: number;
}

const HEADER = /^# configuration file (.+):$/;

/** The files of an `nginx -T` dump, in the order nginx read them. */
export function configFiles(dump: string): ConfigFile[] {
  const files: ConfigFile[] = [];
  let current: { path: string; lines: string[] } | null = null;
  const flush = () => {
    if (current) files.push({ path: current.path, text: current.lines.join('\n') });
  };
  for (const line of dump.split('\n')) {
    const m = HEADER.exec(line);
    if (m) {
      flush();
      current = { path: m[1], lines: [] };
    } else current?.lines.push(line);
  }
  flush();
  // nginx -T ends each file with a blank line of its own.
  return files.map((f) => ({ ...f, text: f.text.replace(/\n$/, '') }));
}

/**
 * The upstream blocks that send to `link` (a `server unix:LINK` entry) and keep idle
 * connections (`keepalive N`): pooled connections stay on the old slot after the link moves.
 * An upstream to anything else may pool as it likes.
 */
export function pooledUpstreams(files: readonly ConfigFile[], link: string): PooledUpstream[] {
  const found: PooledUpstream[] = [];
  for (const f of files) {
    const text = withoutComments(f.text);
    for (const m of text.matchAll(/\bupstream\s+([^\s{]+)\s*\{/g)) {
      const open = m.index + m[0].length;
      const body = text.slice(open, blockEnd(text, open));
      const servers = [...body.matchAll(/(?:^|[;{}\s])server\s+unix:([^\s;]+)/g)].map((s) => s[1]);
      const keepalive = /(?:^|[;{}\s])keepalive\s+\d+\s*;/.exec(body);
      if (!keepalive || !servers.includes(link)) continue;
      const at = open + keepalive.index + keepalive[0].indexOf('keepalive');
      found.push({ name: m[1], file: f.path, line: text.slice(0, at).split('\n').length });
    }
  }
  return found;
}

/** The text with `#` comments blanked, line breaks kept (so offsets still give lines); quoted `#` is not a comment. */
function withoutComments(text: string): string {
  return text.replace(/("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|#[^\n]*/g, (all, quoted: string | undefined) =>
    quoted ? all : ' '.repeat(all.length),
  );
}

/** The offset of the `}` closing the block whose body starts at `from` (the text's end when unclosed). */
function blockEnd(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return i;
  }
  return text.length;
}
