// What the train and eval loaders share: a worker pool, counters, and the async-iterator
// plumbing (close on early exit, stats, close).
import type { JobPool } from './pool.ts';
import { emptyStats, type LoaderStats } from './stats.ts';

/** Base of the loaders: subclasses set `pool` in their constructor and implement next(). */
export abstract class PooledLoader<T> implements AsyncIterableIterator<T> {
  protected pool!: JobPool;
  protected readonly counters: LoaderStats = emptyStats();
  protected closed = false;

  abstract next(): Promise<IteratorResult<T>>;

  /** Called when a for-await loop ends early: closes the loader. */
  async return(): Promise<IteratorResult<T>> {
    await this.close();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Batches and images delivered, skipped files, substitutions, consumer wait time. */
  stats(): LoaderStats {
    return structuredClone(this.counters);
  }

  /** Terminates the workers; later next() calls report done. */
  async close(): Promise<void> {
    this.closed = true;
    await this.pool.close();
  }
}
