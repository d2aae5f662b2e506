// Messages between the service thread and the evaluation thread, and what one evaluation
// needs and returns. Paths here are absolute: the service resolved them.
import type { ApMetricName } from '@kd/proto';

/** What the evaluation thread runs: a checkpoint on a dataset split, or detections against ground truth. */
export type WorkerTask =
  | {
    kind: 'checkpoint';
    /** Checkpoint folder (model.json + weights.bin). */
    path: string;
    /** VOC root replacing the checkpoint config's dataset.dir; undefined keeps it. */
    datasetDir?: string;
    /** List file or ImageSets/Main split replacing dataset.test_list; undefined keeps it. */
    split?: string;
    /** Square input size replacing eval_reader.size; undefined keeps it. */
    inputSize?: number;
    /** "sha256:<hex>" the weights must have (from CheckpointSaved); undefined checks nothing. */
    expectedHash?: string;
    metric: ApMetricName;
    iouThreshold: number;
  }
  | { kind: 'detections'; detectionsPath: string; groundTruthPath: string; metric: ApMetricName; iouThreshold: number };

/** Scores of a finished evaluation. */
export interface WorkerResult {
  /** 0..1, over the classes with ground truth. */
  meanAp: number;
  perClassAp: Record<string, number>;
  numImages: number;
  /** Checkpoints only: the step and "sha256:<hex>" model.json records. */
  checkpointStep?: number;
  contentHash?: string;
}

/**
 * Why an evaluation failed. `input`: the request's files are unusable (missing, corrupt, made
 * for another model); `field` is the request field they came from. `internal`: anything else.
 */
export interface WorkerFailure {
  kind: 'input' | 'internal';
  field?: string;
  notFound?: boolean;
  message: string;
}

export type ToEvaluation = { type: 'run'; id: number; task: WorkerTask };

export type FromEvaluation =
  | { type: 'ready'; backend: string }
  | { type: 'failed'; message: string }
  | { type: 'log'; line: string }
  | { type: 'done'; id: number; result: WorkerResult }
  | { type: 'error'; id: number; failure: WorkerFailure };
