/**
 * Terminal output: colours and one status line only on a TTY (and not under CI), plain lines
 * otherwise. The status line has one renderer and one timer for the whole process: it names
 * the innermost running step (with its parents), so nested or parallel steps never compete
 * to redraw it; the label changes only when a step starts or ends.
 */

/** A running step shown in the status line. */
export interface ProgressStep {
  end(): void;
}

/** How the CLI writes to the terminal. */
export interface Terminal {
  readonly tty: boolean;
  color(code: 'red' | 'green' | 'yellow' | 'cyan' | 'dim' | 'bold', text: string): string;
  /** Write a line to stderr (logs) — stdout is kept for results. */
  line(text: string): void;
  /** Start a step (under `parent`, when nested); the status line shows it while it runs, on a TTY only. */
  step(label: string, parent?: ProgressStep): ProgressStep;
}

const CODES = { red: 31, green: 32, yellow: 33, cyan: 36, dim: 2, bold: 1 } as const;
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

interface Running extends ProgressStep {
  label: string;
  parent?: Running;
}

/** The status line's text for the running steps: the newest one with its parents, and how many others run. */
export function statusLabel(running: readonly { label: string; parent?: unknown }[]): string {
  const leaves = running.filter((s) => !running.some((o) => o.parent === s));
  const newest = leaves.at(-1);
  if (!newest) return '';
  const path: string[] = [];
  for (let s: { label: string; parent?: unknown } | undefined = newest; s; s = s.parent as typeof s)
    path.unshift(s.label);
  const others = leaves.length - 1;
  return `${path.join(' › ')}${others > 0 ? ` (+${others} running)` : ''}`;
}

/** A Terminal over `stream` (stderr); `NO_COLOR` turns colours off, `CI` or a non-TTY the status line. */
export function createTerminal(
  stream: NodeJS.WriteStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Terminal {
  const tty = Boolean(stream.isTTY) && !env.CI;
  const colors = tty && !env.NO_COLOR;
  const running: Running[] = [];
  let shown: string | null = null;
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  const clear = () => {
    if (shown !== null) stream.write('\r\x1b[2K');
    shown = null;
  };
  const draw = () => {
    clear();
    const label = statusLabel(running);
    if (!label) return;
    // Cut to the terminal's width so the line never wraps (a wrapped line cannot be erased with \r).
    const width = Math.max(20, (stream.columns || 80) - 3);
    shown = `${FRAMES[frame++ % FRAMES.length]} ${label.length > width ? `${label.slice(0, width - 1)}…` : label}`;
    stream.write(shown);
  };
  const term: Terminal = {
    tty,
    color: (code, text) => (colors ? `\x1b[${CODES[code]}m${text}\x1b[0m` : text),
    line(text) {
      const again = shown !== null;
      clear();
      stream.write(`${text}\n`);
      if (again) draw();
    },
    step(label, parent) {
      if (!tty) return { end: () => undefined };
      const s: Running = {
        label,
        parent: parent as Running | undefined,
        end() {
          const i = running.indexOf(s);
          if (i < 0) return;
          running.splice(i, 1);
          if (running.length === 0) {
            clearInterval(timer);
            timer = undefined;
            clear();
          } else draw();
        },
      };
      running.push(s);
      if (!timer) {
        timer = setInterval(draw, 100);
        timer.unref();
      }
      draw();
      return s;
    },
  };
  return term;
}
