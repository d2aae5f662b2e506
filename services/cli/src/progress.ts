/**
 * A progress bar on stderr when it is a TTY (redrawn at most 10 times a second); nothing
 * otherwise, since periodic log lines carry the progress in CI logs.
 */
export class ProgressBar {
  private lastDraw = 0;
  private readonly tty = process.stderr.isTTY === true;

  constructor(private readonly label: string, private readonly total: number, private readonly width = 30) {}

  /** Redraws with `done` of `total` and a free-text suffix (loss, eta). */
  update(done: number, suffix = ''): void {
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && done < this.total) return;
    this.lastDraw = now;
    const filled = Math.round((this.width * done) / Math.max(this.total, 1));
    const bar = `${'#'.repeat(filled)}${'-'.repeat(this.width - filled)}`;
    process.stderr.write(`\r${this.label} [${bar}] ${done}/${this.total} ${suffix}\x1b[K`);
  }

  /** Clears the bar line so log lines print cleanly. */
  clear(): void {
    if (this.tty) process.stderr.write('\r\x1b[K');
  }

  done(): void {
    if (this.tty) process.stderr.write('\n');
  }
}
