/** Terminal output: colours and a progress line only on a TTY, plain lines otherwise. */

/** How the CLI writes to the terminal. */
export interface Terminal {
  readonly tty: boolean;
  color(code: 'red' | 'green' | 'yellow' | 'cyan' | 'dim' | 'bold', text: string): string;
  /** Write a line to stderr (logs) — stdout is kept for results. */
  line(text: string): void;
  /** Show a transient progress line (TTY) or a plain start line (otherwise). */
  progress(label: string): () => void;
}

const CODES = { red: 31, green: 32, yellow: 33, cyan: 36, dim: 2, bold: 1 } as const;
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** A Terminal over process.stderr; `NO_COLOR` turns colours off. */
export function createTerminal(stream: NodeJS.WriteStream = process.stderr): Terminal {
  const tty = Boolean(stream.isTTY) && !process.env.CI;
  const colors = tty && !process.env.NO_COLOR;
  let spinnerText: string | null = null;
  const clear = () => {
    if (spinnerText !== null) stream.write('\r\x1b[2K');
  };
  return {
    tty,
    color: (code, text) => (colors ? `\x1b[${CODES[code]}m${text}\x1b[0m` : text),
    line(text) {
      clear();
      stream.write(`${text}\n`);
      if (spinnerText !== null) stream.write(spinnerText);
    },
    progress(label) {
      if (!tty) {
        stream.write(`… ${label}\n`);
        return () => undefined;
      }
      let i = 0;
      const draw = () => {
        clear();
        spinnerText = `${FRAMES[i++ % FRAMES.length]} ${label}`;
        stream.write(spinnerText);
      };
      draw();
      const timer = setInterval(draw, 100);
      return () => {
        clearInterval(timer);
        clear();
        spinnerText = null;
      };
    },
  };
}
