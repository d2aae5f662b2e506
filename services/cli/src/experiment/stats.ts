/** Mean of a non-empty list. */
export function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n - 1); 0 for a single value. */
export function std(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Standard error of the mean (sample std / sqrt(n)); 0 for a single value. */
export function standardError(xs: number[]): number {
  return xs.length < 2 ? 0 : std(xs) / Math.sqrt(xs.length);
}
