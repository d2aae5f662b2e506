// One evaluation, as the evaluation thread runs it: a checkpoint on a dataset split (the
// checkpoint's own config, as `kd eval -w` does) or detections against ground truth (as
// `kd map` does). Errors about the request's files come back as InputFailure naming the
// request field; everything else is left to throw.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readVocDataset } from '@kd/data';
import { createYoloV3, detect, evalLoaderFor, groundTruthOf, loadCheckpoint, openSplit, readCheckpointConfig } from '@kd/detection';
import { evaluateVoc, parseDetections, parseGroundTruth, parseJsonText, type GroundTruthSet } from '@kd/metrics';
import type { WorkerFailure, WorkerResult, WorkerTask } from './evaluation_protocol.ts';

/** The request's input cannot be evaluated; `field` names the request field it came from. */
export class InputFailure extends Error {
  override name = 'InputFailure';

  constructor(readonly field: string, message: string, readonly notFound = false, options?: ErrorOptions) {
    super(message, options);
  }
}

// What the libs throw for unusable files (checkpoint, config, dataset, detections JSON).
const INPUT_ERRORS = new Set(['CheckpointError', 'ConfigError', 'DatasetConfigError', 'VocDatasetError', 'MapInputError', 'LoaderError']);

/** Runs `step`; an input error it throws (or a missing file) becomes an InputFailure of `field`. */
async function stage<T>(field: string, step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof InputFailure) throw error;
    const e = error as NodeJS.ErrnoException;
    if (e?.code === 'ENOENT') throw new InputFailure(field, e.message, true, { cause: error });
    if (INPUT_ERRORS.has(e?.name)) throw new InputFailure(field, e.message, false, { cause: error });
    throw error;
  }
}

/** A failure as it crosses to the service thread. */
export function failureOf(error: unknown): WorkerFailure {
  if (error instanceof InputFailure) return { kind: 'input', field: error.field, notFound: error.notFound, message: error.message };
  return { kind: 'internal', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
}

/** Runs one evaluation; throws InputFailure for unusable input. Needs an initialised tfjs backend for checkpoints. */
export async function runEvaluation(task: WorkerTask): Promise<WorkerResult> {
  return task.kind === 'checkpoint' ? evaluateCheckpoint(task) : evaluateDetections(task);
}

async function evaluateCheckpoint(task: Extract<WorkerTask, { kind: 'checkpoint' }>): Promise<WorkerResult> {
  const pathField = 'EvaluateRequest.checkpoint.path';
  const datasetField = task.datasetDir ? 'EvaluateRequest.checkpoint.dataset' : pathField;
  const config = await stage(pathField, () => readCheckpointConfig(task.path));
  if (task.datasetDir) config.dataset.dir = task.datasetDir;
  if (task.split) config.dataset.test_list = task.split;
  if (task.inputSize) config.eval_reader.size = task.inputSize;
  if (!existsSync(config.dataset.dir)) {
    throw new InputFailure(datasetField, `${config.dataset.dir}: dataset folder does not exist${task.datasetDir ? '' : ` (dataset.dir of ${task.path}/model.json; pass a dataset)`}`, true);
  }
  const model = createYoloV3(config);
  try {
    const loaded = await stage(pathField, () => loadCheckpoint(task.path, model.store, config));
    const contentHash = `sha256:${loaded.contentHash}`;
    if (task.expectedHash && task.expectedHash !== contentHash) {
      throw new InputFailure(pathField, `${task.path}: weights are ${contentHash.slice(0, 19)}..., not ${task.expectedHash.slice(0, 19)}... as announced; the checkpoint was replaced since it was saved`);
    }
    const testSet = await stage(task.split ? 'EvaluateRequest.checkpoint.split' : datasetField, () => openSplit(config, 'test'));
    const loader = evalLoaderFor(config, testSet);
    try {
      const { detections, images } = await stage(datasetField, () => detect(model, loader, config, testSet.classes));
      const scores = evaluateVoc(groundTruthOf(testSet.records), detections, testSet.classes, task.metric, task.iouThreshold);
      return { meanAp: scores.mAP, perClassAp: scores.perClass, numImages: images, checkpointStep: loaded.step, contentHash };
    } finally {
      await loader.close();
    }
  } finally {
    model.store.dispose();
  }
}

function readText(path: string, field: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new InputFailure(field, `${path}: cannot read: ${e.message}`, e.code === 'ENOENT', { cause: error });
  }
}

/** Ground truth from a JSON file (`kd map --gt` format) or a VOC dataset folder / list file. */
async function loadGroundTruth(path: string, field: string): Promise<{ gt: GroundTruthSet; images: number }> {
  const isVoc = await stage(field, () => statSync(path).isDirectory() || path.endsWith('.txt'));
  if (isVoc) {
    const ds = await stage(field, () => readVocDataset(path, { requireImages: false }));
    return {
      gt: { classes: ds.classes, images: ds.records.map((r) => ({ id: r.id, objects: r.objects.map((o) => ({ class: o.name, bbox: o.bbox, difficult: o.difficult })) })) },
      images: ds.records.length,
    };
  }
  const gt = await stage(field, () => parseGroundTruth(parseJsonText(readText(path, field), path), path));
  return { gt, images: gt.images.length };
}

async function evaluateDetections(task: Extract<WorkerTask, { kind: 'detections' }>): Promise<WorkerResult> {
  const { gt, images } = await loadGroundTruth(task.groundTruthPath, 'EvaluateRequest.detections.ground_truth_path');
  const field = 'EvaluateRequest.detections.detections_path';
  const dets = await stage(field, () => parseDetections(parseJsonText(readText(task.detectionsPath, field), task.detectionsPath), gt, task.detectionsPath));
  const scores = evaluateVoc(gt.images, dets, gt.classes, task.metric, task.iouThreshold);
  return { meanAp: scores.mAP, perClassAp: scores.perClass, numImages: images };
}
