/** A one-line progress bar on stderr (redrawn on a TTY, a line per 10% otherwise). */
export class ProgressBar {
  private lastDecile = -1;
  constructor(private readonly label: string, private readonly out: NodeJS.WriteStream = process.stderr) {}

  update(done: number, total: number, detail = ''): void {
    const ratio = total > 0 ? Math.min(1, done / total) : 0;
    if (this.out.isTTY) {
      const width = 30;
      const filled = Math.round(ratio * width);
      this.out.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${detail}\x1b[K`);
    } else {
      const decile = Math.floor(ratio * 10);
      if (decile !== this.lastDecile) {
        this.lastDecile = decile;
        this.out.write(`${this.label} ${done}/${total} ${detail}\n`);
      }
    }
  }

  end(): void {
    if (this.out.isTTY) this.out.write('\n');
  }
}
