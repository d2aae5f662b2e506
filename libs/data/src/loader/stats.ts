// Bookkeeping shared by the train and eval loaders: counts, wait time, one warning per bad file.
import type { DataProblem } from '../types.ts';
import type { JobResult } from './jobs.ts';

/** What a loader has done so far. */
export interface LoaderStats {
  batches: number;
  images: number;
  /** Unreadable files and why (each reported once), by file path. */
  skipped: Record<string, string>;
  /** Samples that were replaced by another record (train) or left out of their batch (eval). */
  replaced: number;
  /** Total time the consumer spent waiting inside next(), ms. */
  waitMs: number;
}

/** Called once per unreadable file. The default emits a process warning (type 'DataWarning'). */
export type WarningHandler = (problem: DataProblem) => void;

export const defaultWarning: WarningHandler = (p) => process.emitWarning(`${p.file}: ${p.message} (skipped)`, { type: 'DataWarning', code: p.kind });

/** Counts a result into the stats, warning about files not seen before. */
export function record(stats: LoaderStats, result: JobResult, images: number, onWarning: WarningHandler): void {
  stats.batches++;
  stats.images += images;
  stats.replaced += result.replaced;
  for (const p of result.problems) {
    if (p.file in stats.skipped) continue;
    stats.skipped[p.file] = `${p.kind}: ${p.message}`;
    onWarning(p);
  }
}

export function emptyStats(): LoaderStats {
  return { batches: 0, images: 0, skipped: {}, replaced: 0, waitMs: 0 };
}
