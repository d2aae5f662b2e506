import type { KdConfig } from '@kd/config';
import {
  createEvalLoader, createTrainLoader, readVocDataset, type EvalLoader, type TrainLoader, type VocDataset, type VocRecord, type WarningHandler,
} from '@kd/data';

/** A dataset split whose classes disagree with the config, or that holds no usable record. */
export class DatasetConfigError extends Error {
  override name = 'DatasetConfigError';
}

/** Reads the config's train or test split and checks its classes against num_classes. */
export async function openSplit(config: Pick<KdConfig, 'dataset' | 'num_classes'>, which: 'train' | 'test', onProgress?: (done: number, total: number) => void): Promise<VocDataset> {
  const split = which === 'train' ? config.dataset.train_list : config.dataset.test_list;
  const dataset = await readVocDataset(config.dataset.dir, { split, classes: config.dataset.classes, onProgress });
  if (dataset.classes.length !== config.num_classes) {
    throw new DatasetConfigError(
      `${config.dataset.dir}: ${dataset.classes.length} classes (from ${dataset.classSource}) but num_classes is ${config.num_classes}`);
  }
  if (dataset.records.length === 0) {
    throw new DatasetConfigError(`${config.dataset.dir}: split ${split} has no usable record (${dataset.problems.length} problems; run kd check-data)`);
  }
  return dataset;
}

/**
 * The training loader the config describes, positioned at `startStep` for resumed runs;
 * `unlabeled` images (distillation) fill train_reader.unlabeled.ratio of every batch.
 */
export function trainLoaderFor(config: KdConfig, dataset: VocDataset, onWarning?: WarningHandler, startStep = 0, unlabeled: VocRecord[] = []): TrainLoader {
  const r = config.train_reader;
  return createTrainLoader({
    records: dataset.records,
    classes: dataset.classes,
    batchSize: r.batch_size,
    sizes: r.sizes,
    workers: r.workers,
    prefetch: r.prefetch,
    seed: config.seed,
    startBatch: startStep,
    maxBoxes: r.max_boxes,
    augment: {
      mixup: r.augment.mixup, mixupEpochs: r.mixup_epochs, colorDistort: r.augment.color_distort,
      expand: r.augment.expand, crop: r.augment.crop, flip: r.augment.flip,
    },
    onWarning,
    unlabeled,
    unlabeledPerBatch: unlabeled.length > 0 ? Math.round((r.unlabeled?.ratio ?? 0) * r.batch_size) : 0,
  });
}

/** The evaluation loader: every record once at eval_reader.size. */
export function evalLoaderFor(config: KdConfig, dataset: VocDataset, onWarning?: WarningHandler): EvalLoader {
  return createEvalLoader({
    records: dataset.records, size: config.eval_reader.size, batchSize: config.eval_reader.batch_size,
    workers: config.train_reader.workers, onWarning,
  });
}
