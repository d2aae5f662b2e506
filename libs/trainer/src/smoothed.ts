/** Median of the last `window` values, as PaddleDetection smooths logged losses. */
export class SmoothedValue {
  private readonly values: number[] = [];

  constructor(private readonly window = 20) {}

  push(value: number): void {
    this.values.push(value);
    if (this.values.length > this.window) this.values.shift();
  }

  get median(): number {
    const sorted = [...this.values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }
}

/** Seconds as h:mm:ss (PaddleDetection's eta format). */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
