// The training loader: an endless, seeded stream of augmented TrainBatches computed on worker
// threads ahead of the consumer.
import type { TrainBatch, VocRecord } from '../types.ts';
import { AUGMENT_DEFAULTS, AUGMENT_NONE, type AugmentOptions } from '../transforms/pipeline.ts';
import { MAX_BOXES } from '../transforms/batch.ts';
import { PPDET_TRAIN_SIZES } from '../transforms/resize.ts';
import { TrainSchedule } from './schedule.ts';
import { JobPool } from './pool.ts';
import { PooledLoader } from './pooled_loader.ts';
import type { JobResult } from './jobs.ts';
import { LoaderError } from './errors.ts';
import { defaultWarning, record, type WarningHandler } from './stats.ts';

export interface TrainLoaderOptions {
  records: VocRecord[];
  /** Class names; a box's class index is its name's position here. */
  classes: readonly string[];
  batchSize: number;
  /** RandomShape sizes, one drawn per batch (default ppdet's 320..608 step 32). */
  sizes?: readonly number[];
  /** Worker threads (default 2); 0 computes on the calling thread (tests, debugging). */
  workers?: number;
  /** Batches requested ahead of the consumer (default 2 per worker, at least 1). */
  prefetch?: number;
  seed?: number;
  /** Index of the first batch to deliver (resuming a run): the batches before it are planned but never computed, so batch k is the same as in an unbroken run. */
  startBatch?: number;
  /** Augmentations to run (default all of ppdet's); false for none. */
  augment?: Partial<AugmentOptions> | false;
  maxBoxes?: number;
  onWarning?: WarningHandler;
  /** Images without annotations (distillation): mixed into every batch, never mixed up. */
  unlabeled?: VocRecord[];
  /** Unlabeled samples per batch (at most batchSize - 1); 0 by default. */
  unlabeledPerBatch?: number;
}

function checkInt(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new LoaderError(`${name}: expected an integer >= ${min}, got ${value}`);
}

/** An endless async iterator of TrainBatch; same seed and options, same batches. Call close() (or break a for-await). */
export class TrainLoader extends PooledLoader<TrainBatch> {
  private readonly schedule: TrainSchedule;
  private readonly augment: AugmentOptions;
  private readonly maxBoxes: number;
  private readonly prefetch: number;
  private readonly onWarning: WarningHandler;
  private readonly pending: Array<Promise<JobResult>> = [];

  constructor(options: TrainLoaderOptions) {
    super();
    const { records, batchSize } = options;
    if (records.length === 0) throw new LoaderError('records: the training set is empty');
    checkInt('batchSize', batchSize, 1);
    const sizes = options.sizes ?? PPDET_TRAIN_SIZES;
    if (sizes.length === 0) throw new LoaderError('sizes: expected at least one size');
    sizes.forEach((s) => checkInt('sizes', s, 1));
    const workers = options.workers ?? 2;
    checkInt('workers', workers, 0);
    this.prefetch = options.prefetch ?? Math.max(1, 2 * workers);
    checkInt('prefetch', this.prefetch, 1);
    this.maxBoxes = options.maxBoxes ?? MAX_BOXES;
    checkInt('maxBoxes', this.maxBoxes, 1);
    this.augment = options.augment === false ? AUGMENT_NONE : { ...AUGMENT_DEFAULTS, ...options.augment };
    this.onWarning = options.onWarning ?? defaultWarning;
    this.schedule = new TrainSchedule({
      records: records.length,
      batchSize,
      sizes,
      seed: options.seed ?? 0,
      mixupEpochs: this.augment.mixup ? this.augment.mixupEpochs : 0,
      unlabeled: options.unlabeled?.length ?? 0,
      unlabeledPerBatch: options.unlabeledPerBatch ?? 0,
    });
    const startBatch = options.startBatch ?? 0;
    checkInt('startBatch', startBatch, 0);
    // Plans are cheap (indices and seeds): skipping ahead costs no image work.
    for (let i = 0; i < startBatch; i++) this.schedule.next();
    this.pool = new JobPool(workers, [...records, ...(options.unlabeled ?? [])], options.classes);
    this.fill();
  }

  // Keeps `prefetch` batches requested; each promise gets a no-op catch so a failure of a batch
  // nobody awaits yet (e.g. after close) is not an unhandled rejection.
  private fill(): void {
    while (!this.closed && this.pending.length < this.prefetch) {
      const p = this.pool.run({ kind: 'train', plan: this.schedule.next(), augment: this.augment, maxBoxes: this.maxBoxes });
      p.catch(() => {});
      this.pending.push(p);
    }
  }

  /** The next batch, in schedule order. Rejects with LoaderError if a worker fails. */
  async next(): Promise<IteratorResult<TrainBatch>> {
    if (this.closed) return { done: true, value: undefined };
    const started = performance.now();
    const p = this.pending.shift()!;
    this.fill();
    const result = await p;
    this.counters.waitMs += performance.now() - started;
    const batch = result.batch as TrainBatch;
    record(this.counters, result, batch.ids.length, this.onWarning);
    return { done: false, value: batch };
  }
}

/** Starts a training loader (workers begin filling the prefetch queue at once). */
export function createTrainLoader(options: TrainLoaderOptions): TrainLoader {
  return new TrainLoader(options);
}
