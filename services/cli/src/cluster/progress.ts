// Progress of kd cluster's trainers from their training_progress events: one bar line per
// trainer, redrawn in place, on a terminal; a plain line per trainer at most every few seconds
// otherwise (CI logs). Log lines go through log(), so they never tear a bar.

/** What one training_progress event says, as shown. */
export interface TrainerProgress {
  step: number;
  totalSteps: number;
  /** Total loss, and the distillation part if any. */
  loss?: number;
  distillLoss?: number;
  imagesPerSecond: number;
  etaSeconds: number;
}

/** 75 -> "1m15s", 3700 -> "1h01m". */
export function shortDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** "loss 3.214 (distill 0.412), 9.8 img/s, eta 1m20s" */
function details(p: TrainerProgress): string {
  const loss = p.loss === undefined ? '' : `loss ${p.loss.toFixed(3)}${p.distillLoss === undefined ? '' : ` (distill ${p.distillLoss.toFixed(3)})`}, `;
  return `${loss}${p.imagesPerSecond.toFixed(1)} img/s, eta ${p.step >= p.totalSteps ? 'done' : shortDuration(p.etaSeconds)}`;
}

/** The plain progress line: "baseline: step 40/120 (33%), loss 3.214, 9.8 img/s, eta 1m20s". */
export function progressLine(label: string, p: TrainerProgress): string {
  const pct = (100 * p.step) / Math.max(p.totalSteps, 1);
  return `${label}: step ${p.step}/${p.totalSteps} (${pct.toFixed(0)}%), ${details(p)}`;
}

/** One bar line: "baseline   [#########---------------------] 40/120 loss 3.214, 9.8 img/s, eta 1m20s". */
export function barLine(label: string, labelWidth: number, p: TrainerProgress | undefined, note: string | undefined, width = 30): string {
  const done = p ? Math.min(p.step, p.totalSteps) : 0;
  const filled = p ? Math.round((width * done) / Math.max(p.totalSteps, 1)) : 0;
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  const text = note ?? (p ? `${p.step}/${p.totalSteps} ${details(p)}` : 'starting');
  return `${label.padEnd(labelWidth)} ${bar} ${text}`;
}

export interface BoardOptions {
  /** Written to; default process.stderr. */
  out?: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  /** Bars redrawn in place; default out.isTTY. */
  tty?: boolean;
  /** Plain mode: at most one line per trainer this often, ms (the last step always prints). */
  everyMs?: number;
  /** Put in front of every plain line, e.g. "kd cluster: ". */
  prefix?: string;
  now?: () => number;
}

export class ProgressBoard {
  private readonly out: NonNullable<BoardOptions['out']>;
  private readonly tty: boolean;
  private readonly everyMs: number;
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly state = new Map<string, { progress?: TrainerProgress; note?: string; lastPrint: number }>();
  private readonly labelWidth: number;
  private barsShown = 0;
  private closed = false;

  constructor(labels: readonly string[], o: BoardOptions = {}) {
    this.out = o.out ?? process.stderr;
    this.tty = o.tty ?? this.out.isTTY === true;
    this.everyMs = o.everyMs ?? 5000;
    this.prefix = o.prefix ?? '';
    this.now = o.now ?? Date.now;
    for (const l of labels) this.state.set(l, { lastPrint: -Infinity });
    this.labelWidth = Math.max(...labels.map((l) => l.length));
  }

  /** A log line; on a terminal the bars are cleared first and redrawn below it. */
  log(line: string): void {
    this.clearBars();
    this.out.write(`${this.prefix}${line}\n`);
    this.drawBars();
  }

  /** A trainer's latest progress. */
  update(label: string, p: TrainerProgress): void {
    const s = this.state.get(label);
    if (!s || this.closed) return;
    s.progress = p;
    if (this.tty) {
      this.clearBars();
      this.drawBars(true);
      return;
    }
    const now = this.now();
    if (now - s.lastPrint < this.everyMs && p.step < p.totalSteps) return;
    s.lastPrint = now;
    this.out.write(`${this.prefix}${progressLine(label, p)}\n`);
  }

  /** Replaces a trainer's bar text (e.g. "done in 1m32s"); a plain line when not on a terminal. */
  note(label: string, text: string): void {
    const s = this.state.get(label);
    if (!s || this.closed) return;
    s.note = text;
    if (this.tty) {
      this.clearBars();
      this.drawBars(true);
    } else {
      this.out.write(`${this.prefix}${label}: ${text}\n`);
    }
  }

  /** Leaves the bars as they are; later log() lines go below them. */
  close(): void {
    this.closed = true;
    this.barsShown = 0;
  }

  private clearBars(): void {
    // the cursor sits at the start of the line below the bars
    if (this.barsShown > 0) this.out.write(`\x1b[${this.barsShown}F\x1b[J`);
    this.barsShown = 0;
  }

  private drawBars(force = false): void {
    if (!this.tty || this.closed) return;
    const entries = [...this.state.entries()];
    if (!force && entries.every(([, s]) => s.progress === undefined && s.note === undefined)) return;
    // a line that wraps would throw off the cursor-up count: cut bars to the terminal's width
    const width = (this.out.columns ?? 0) > 1 ? this.out.columns! - 1 : Infinity;
    this.out.write(entries.map(([label, s]) => `${barLine(label, this.labelWidth, s.progress, s.note).slice(0, width)}\x1b[K\n`).join(''));
    this.barsShown = entries.length;
  }
}

/**
 * Runs `work`, logging `still <what> (N s)` every `everyMs` until it settles: the evaluator
 * reports no progress of its own, and a silent minute reads like a hang.
 */
export async function withHeartbeat<T>(work: Promise<T>, what: string, log: (line: string) => void, everyMs = 15_000): Promise<T> {
  const started = Date.now();
  const timer = setInterval(() => log(`still ${what} (${shortDuration((Date.now() - started) / 1000)})`), everyMs);
  timer.unref();
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}
