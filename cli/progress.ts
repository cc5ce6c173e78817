/**
 * Progress of long commands (ingest --wait, retention run, fixity --all, export): one bar redrawn
 * in place on stderr, drawn only for a person at a terminal. With --json, or when stdout or stderr
 * is not a terminal (a pipe, a log, CI), nothing is drawn, so scripted output stays exactly as it was.
 */

/** What a long command reports its progress to. */
export interface Progress {
  update(done: number, total: number, detail?: string): void;
  /** Ends the bar's line; call once, also when the command fails. */
  end(): void;
}

/** The streams a bar looks at; process.stdout and process.stderr unless a test passes its own. */
export interface ProgressStreams {
  stdout: { isTTY?: boolean };
  stderr: { isTTY?: boolean; columns?: number; write(s: string): unknown };
}

const WIDTH = 30;
// Redraws at most this often: a fixity run over 100 000 objects would otherwise write 100 000 lines of escape codes.
const MIN_REDRAW_MS = 100;

/** A bar on a terminal, or undefined when none should be drawn (`--json`, output not a terminal). */
export function progressBar(label: string, opts: { json: boolean; streams?: ProgressStreams; now?: () => number }): Progress | undefined {
  const { stdout, stderr } = opts.streams ?? { stdout: process.stdout, stderr: process.stderr };
  if (opts.json || !stdout.isTTY || !stderr.isTTY) return undefined;
  const now = opts.now ?? Date.now;
  let last = -Infinity;
  let drawn = false;
  return {
    update(done, total, detail = '') {
      const finished = total > 0 && done >= total;
      if (!finished && now() - last < MIN_REDRAW_MS) return;
      last = now();
      const ratio = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(ratio * WIDTH);
      const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${done}/${total}${detail ? ` ${detail}` : ''}`;
      // Cut to the terminal's width: a wrapped line cannot be redrawn in place with \r.
      const cols = stderr.columns ?? 80;
      stderr.write(`\r${line.length >= cols ? line.slice(0, cols - 1) : line}\x1b[K`);
      drawn = true;
    },
    end() {
      if (drawn) stderr.write('\n');
      drawn = false;
    },
  };
}
