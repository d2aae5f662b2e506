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

/**
 * Progress on stderr: a line rewritten in place on a TTY (at most 10 times a second), else a
 * plain line every 5 s (and one at the end), so CI logs of a 17k-image check stay short. Both show an ETA.
 */
export function progressReporter(label: string): (phase: string, done: number, total: number) => void {
  const tty = process.stderr.isTTY === true;
  const start = Date.now();
  let phaseStart = start;
  let lastPhase = '';
  let lastWrite = start;
  return (phase, done, total) => {
    const now = Date.now();
    if (phase !== lastPhase) {
      lastPhase = phase;
      phaseStart = now;
    }
    const finished = done === total;
    if (now - lastWrite < (tty ? 100 : 5000) && !finished) return;
    lastWrite = now;
    const rate = done / Math.max(1, now - phaseStart);
    const eta = finished ? 'done' : `ETA ${Math.ceil((total - done) / Math.max(rate, 1e-9) / 1000)} s`;
    const line = `${label}: ${phase} ${done}/${total} (${((100 * done) / Math.max(total, 1)).toFixed(0)}%) ${eta}`;
    process.stderr.write(tty ? `\r${line}\x1b[K${finished ? '\n' : ''}` : `${line}\n`);
  };
}
