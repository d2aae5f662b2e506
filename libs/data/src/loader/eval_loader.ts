// The evaluation loader: every record once, in order, resized to one size, on worker threads.
import type { EvalBatch, VocRecord } from '../types.ts';
import { JobPool } from './pool.ts';
import { PooledLoader } from './pooled_loader.ts';
import type { JobResult } from './jobs.ts';
import { LoaderError } from './errors.ts';
import { defaultWarning, record, type WarningHandler } from './stats.ts';

export interface EvalLoaderOptions {
  records: VocRecord[];
  /** Square input size, px (ppdet evaluates at 608). */
  size: number;
  batchSize: number;
  /** Worker threads (default 2); 0 computes on the calling thread. */
  workers?: number;
  /** Batches requested ahead (default 2 per worker, at least 1). */
  prefetch?: number;
  onWarning?: WarningHandler;
}

/**
 * A finite async iterator of EvalBatch in record order. An unreadable image is left out of its
 * batch (warned once, counted in stats().skipped); a batch with no readable image is not yielded.
 * Workers are terminated after the last batch, or by close().
 */
export class EvalLoader extends PooledLoader<EvalBatch> {
  private readonly pending: Array<Promise<JobResult>> = [];
  private readonly onWarning: WarningHandler;
  private readonly prefetch: number;
  private nextStart = 0;

  constructor(private readonly options: EvalLoaderOptions) {
    super();
    for (const key of ['size', 'batchSize'] as const) {
      if (!Number.isInteger(options[key]) || options[key] < 1) throw new LoaderError(`${key}: expected an integer >= 1, got ${options[key]}`);
    }
    const workers = options.workers ?? 2;
    if (!Number.isInteger(workers) || workers < 0) throw new LoaderError(`workers: expected an integer >= 0, got ${workers}`);
    this.prefetch = options.prefetch ?? Math.max(1, 2 * workers);
    this.onWarning = options.onWarning ?? defaultWarning;
    this.pool = new JobPool(workers, options.records, []);
    this.fill();
  }

  private fill(): void {
    const { records, batchSize, size } = this.options;
    while (!this.closed && this.pending.length < this.prefetch && this.nextStart < records.length) {
      const indices = Array.from({ length: Math.min(batchSize, records.length - this.nextStart) }, (_, i) => this.nextStart + i);
      const p = this.pool.run({ kind: 'eval', index: this.nextStart / batchSize, records: indices, size });
      p.catch(() => {});
      this.pending.push(p);
      this.nextStart += indices.length;
    }
  }

  /** The next batch in record order, or done after the last (then the workers are gone). */
  async next(): Promise<IteratorResult<EvalBatch>> {
    const started = performance.now();
    while (!this.closed && this.pending.length > 0) {
      const p = this.pending.shift()!;
      this.fill();
      const result = await p;
      const batch = result.batch as EvalBatch | null;
      record(this.counters, result, batch?.ids.length ?? 0, this.onWarning);
      this.counters.replaced += result.problems.length;
      if (!batch) continue;
      this.counters.waitMs += performance.now() - started;
      return { done: false, value: batch };
    }
    await this.close();
    return { done: true, value: undefined };
  }
}

/** Starts an evaluation loader. */
export function createEvalLoader(options: EvalLoaderOptions): EvalLoader {
  return new EvalLoader(options);
}
