// Loader throughput benchmark: how many augmented training images per second the loader
// delivers with N workers, and how long a consumer that is busy for `consumeMs` per batch
// (like a training step) still waits for data.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateShapesDataset } from '../shapes/generate.ts';
import { createTrainLoader, type TrainLoader } from './train_loader.ts';

export interface LoaderBenchOptions {
  /** Shapes images generated for the run (longer side imageSize px). */
  images: number;
  imageSize: number;
  batchSize: number;
  /** Network input size (one fixed RandomShape size, so runs are comparable). */
  inputSize: number;
  /** Timed batches per measurement. */
  batches: number;
  /** Busy time of the simulated consumer per batch, ms. */
  consumeMs: number;
  /** Worker counts to measure (0 = loading on the consumer's thread). */
  workers: number[];
  seed: number;
  progress?: (line: string) => void;
}

export const LOADER_BENCH_DEFAULTS: LoaderBenchOptions = {
  images: 160,
  imageSize: 320,
  batchSize: 8,
  inputSize: 320,
  batches: 20,
  consumeMs: 200,
  workers: [0, 1, 2],
  seed: 0,
};

/** One worker count's numbers. */
export interface LoaderBenchRow {
  workers: number;
  /** Images per second with a consumer that does nothing but take batches. */
  images_per_s: number;
  ms_per_batch: number;
  /** With a consumer busy consumeMs per batch: mean and 95th percentile wait in next(), ms. */
  wait_ms_mean: number;
  wait_ms_p95: number;
  /** Images per second the busy consumer achieved (batchSize * 1000 / (consumeMs + wait)). */
  consumer_images_per_s: number;
}

export interface LoaderBenchResult {
  dataset: string;
  images: number;
  image_size: number;
  batch: number;
  input_size: number;
  augmentation: string;
  consume_ms: number;
  batches: number;
  rows: LoaderBenchRow[];
}

// A training step keeps the consumer's thread busy (tfjs wasm runs synchronously), so the
// consumer is simulated by spinning, not by sleeping: it competes for the CPU like a trainer.
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy on purpose
  }
}

async function timedNext(loader: TrainLoader): Promise<number> {
  const t = performance.now();
  await loader.next();
  return performance.now() - t;
}

/** Runs the benchmark on a freshly generated shapes dataset in a temporary directory. */
export async function runLoaderBench(options: LoaderBenchOptions): Promise<LoaderBenchResult> {
  const o = options;
  const dir = await mkdtemp(join(tmpdir(), 'kd-bench-data-'));
  try {
    o.progress?.(`generating ${o.images} shapes images (${o.imageSize} px)`);
    const ds = await generateShapesDataset({ out: dir, train: o.images, test: 0, unlabeled: 0, size: o.imageSize, seed: o.seed });
    const rows: LoaderBenchRow[] = [];
    for (const workers of o.workers) {
      o.progress?.(`${workers} worker(s)`);
      const loader = createTrainLoader({ records: ds.trainval, classes: ds.classes, batchSize: o.batchSize, sizes: [o.inputSize], workers, seed: o.seed });
      try {
        // The first batch includes starting the workers: not timed.
        await loader.next();
        const t = performance.now();
        for (let i = 0; i < o.batches; i++) await loader.next();
        const msPerBatch = (performance.now() - t) / o.batches;
        // Let the prefetch queue refill as it would during training, then measure waits.
        spin(o.consumeMs);
        const waits: number[] = [];
        for (let i = 0; i < o.batches; i++) {
          waits.push(await timedNext(loader));
          spin(o.consumeMs);
        }
        waits.sort((a, b) => a - b);
        const mean = waits.reduce((a, b) => a + b, 0) / waits.length;
        rows.push({
          workers,
          images_per_s: (o.batchSize * 1000) / msPerBatch,
          ms_per_batch: msPerBatch,
          wait_ms_mean: mean,
          wait_ms_p95: waits[Math.min(waits.length - 1, Math.ceil(0.95 * waits.length) - 1)],
          consumer_images_per_s: (o.batchSize * 1000) / (o.consumeMs + mean),
        });
      } finally {
        await loader.close();
      }
    }
    return {
      dataset: 'shapes',
      images: o.images,
      image_size: o.imageSize,
      batch: o.batchSize,
      input_size: o.inputSize,
      augmentation: 'mixup, color distort, expand, crop, flip, resize, normalize',
      consume_ms: o.consumeMs,
      batches: o.batches,
      rows,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
