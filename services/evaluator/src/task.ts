// What an evaluation is, whichever way it came (an Evaluate request or a CheckpointSaved
// event), and the checks that turn a request into one. The checks read the message and stat
// paths, never file contents, so a bad request is answered at once; every message starts with
// the field it is about.
import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApMetric, apMetricName, type ApMetricName, type CheckpointSaved, type EvaluateRequest } from '@kd/proto';
import { InvalidRequestError, PathNotFoundError } from './errors.ts';
import type { WorkerTask } from './evaluation_protocol.ts';

/** CheckpointInput.dataset "builtin": the built-in dataset where `kd make-dataset shapes` writes it. */
export const BUILTIN_DATASET_DIR = 'data/shapes';

/** IoU threshold when a request gives 0. */
export const DEFAULT_IOU = 0.5;

export const Trigger = { grpc: 'grpc', event: 'event' } as const;
export type Trigger = (typeof Trigger)[keyof typeof Trigger];

/** One evaluation to run. */
export interface EvaluationTask {
  evaluationId: string;
  /** '' for ad-hoc evaluations. */
  jobId: string;
  step: number;
  trigger: Trigger;
  /** The checkpoint or detections path as given (EvaluationReport.source). */
  source: string;
  /** "sha256:<hex>" of a checkpoint event: with job and step the key of exactly-once. */
  contentHash?: string;
  work: WorkerTask;
}

// events.proto: a job id is one NATS token; kept short as it names a folder of the state.
const JOB_ID = /^[^.*>\s]{1,128}$/;
const EVALUATION_ID = /^[A-Za-z0-9_][A-Za-z0-9._:@-]{0,199}$/;

/** Throws InvalidRequestError unless `job` is '' or a valid job id. */
export function checkJobId(job: string, field: string): void {
  if (job !== '' && !JOB_ID.test(job)) {
    throw new InvalidRequestError(field, `${JSON.stringify(job)} is not a job id (one event-subject token: no '.', '*', '>' or whitespace, at most 128 characters)`);
  }
}

/** A local path from a path or file:// URI, resolved against the working directory. */
function localPath(value: string, field: string): string {
  if (value === '') throw new InvalidRequestError(field, 'empty; give a path');
  if (value.startsWith('file://')) return fileURLToPath(value);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw new InvalidRequestError(field, `${value}: only local paths and file:// URIs are supported`);
  return resolve(value);
}

function mustExist(path: string, field: string, what: 'file' | 'dir' | 'any'): void {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new PathNotFoundError(field, `${path} does not exist`);
  }
  if (what === 'dir' && !isDir) throw new InvalidRequestError(field, `${path} is a file; expected a folder`);
  if (what === 'file' && isDir) throw new InvalidRequestError(field, `${path} is a folder; expected a file`);
}

function metricOf(metric: ApMetric): ApMetricName {
  try {
    return apMetricName(metric);
  } catch {
    throw new InvalidRequestError('EvaluateRequest.metric', `unknown ApMetric ${metric}; use 1 (11POINT), 2 (AREA) or 3 (INTEGRAL)`);
  }
}

function iouOf(t: number): number {
  if (t === 0) return DEFAULT_IOU;
  if (!(t > 0 && t < 1)) throw new InvalidRequestError('EvaluateRequest.iou_threshold', `${t} is outside (0, 1); 0 means ${DEFAULT_IOU}`);
  return t;
}

/** Largest CheckpointInput.input_size: a 1024x1024 batch is already far past VOC's images. */
export const MAX_INPUT_SIZE = 1024;

function inputSizeOf(size: number): number | undefined {
  if (size === 0) return undefined;
  if (size % 32 !== 0 || size > MAX_INPUT_SIZE) {
    throw new InvalidRequestError('EvaluateRequest.checkpoint.input_size', `${size} is not a multiple of 32 up to ${MAX_INPUT_SIZE}; 0 means the checkpoint's own eval_reader.size`);
  }
  return size;
}

/** The task of an Evaluate request; throws InvalidRequestError or PathNotFoundError naming the field. */
export function taskFromRequest(req: EvaluateRequest): EvaluationTask {
  checkJobId(req.jobId, 'EvaluateRequest.job_id');
  if (req.evaluationId !== '' && !EVALUATION_ID.test(req.evaluationId)) {
    throw new InvalidRequestError('EvaluateRequest.evaluation_id', `${JSON.stringify(req.evaluationId)}: use 1-200 letters, digits and . _ : @ - (not starting with . - : @)`);
  }
  if (!Number.isSafeInteger(req.step) || req.step < 0) throw new InvalidRequestError('EvaluateRequest.step', `${req.step} is not a step count`);
  const metric = metricOf(req.metric);
  const iouThreshold = iouOf(req.iouThreshold);
  const base = { evaluationId: req.evaluationId || randomUUID(), jobId: req.jobId, step: req.step, trigger: Trigger.grpc };
  if (req.checkpoint && req.detections) throw new InvalidRequestError('EvaluateRequest.input', 'both checkpoint and detections are set; give one');
  if (req.checkpoint) {
    const c = req.checkpoint;
    const path = localPath(c.path, 'EvaluateRequest.checkpoint.path');
    mustExist(path, 'EvaluateRequest.checkpoint.path', 'dir');
    mustExist(resolve(path, 'model.json'), 'EvaluateRequest.checkpoint.path', 'file');
    let datasetDir: string | undefined;
    if (c.dataset !== '') {
      datasetDir = c.dataset === 'builtin' ? resolve(BUILTIN_DATASET_DIR) : localPath(c.dataset, 'EvaluateRequest.checkpoint.dataset');
      mustExist(datasetDir, 'EvaluateRequest.checkpoint.dataset', 'any');
    }
    const inputSize = inputSizeOf(c.inputSize);
    return { ...base, source: c.path, work: { kind: 'checkpoint', path, datasetDir, split: c.split || undefined, inputSize, metric, iouThreshold } };
  }
  if (req.detections) {
    const d = req.detections;
    const detectionsPath = localPath(d.detectionsPath, 'EvaluateRequest.detections.detections_path');
    const groundTruthPath = localPath(d.groundTruthPath, 'EvaluateRequest.detections.ground_truth_path');
    mustExist(detectionsPath, 'EvaluateRequest.detections.detections_path', 'file');
    mustExist(groundTruthPath, 'EvaluateRequest.detections.ground_truth_path', 'any');
    return { ...base, source: d.detectionsPath, work: { kind: 'detections', detectionsPath, groundTruthPath, metric, iouThreshold } };
  }
  throw new InvalidRequestError('EvaluateRequest.input', 'neither checkpoint nor detections is set');
}

/** "sha256:<hex>" that model.json of `dir` records, or undefined when it cannot be read. */
function manifestHash(dir: string): string | undefined {
  try {
    const hash = (JSON.parse(readFileSync(resolve(dir, 'model.json'), 'utf8')) as { content_hash?: unknown }).content_hash;
    return typeof hash === 'string' && hash !== '' ? `sha256:${hash}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Id of the evaluation of a job's checkpoint: job, step and the first 16 hex digits of its
 * content hash, so a redelivered (or re-announced) checkpoint maps to the same stored result.
 */
export function checkpointEvaluationId(job: string, step: number, contentHash: string | undefined): string {
  const hex = contentHash?.replace(/^sha256:/, '').slice(0, 16) || 'nohash';
  return `${job}-step${step}-${hex}`;
}

/** The task of a CheckpointSaved event of `job` (the subject's job token): the checkpoint on its own config's test split. */
export function taskFromCheckpointSaved(job: string, event: CheckpointSaved): EvaluationTask {
  const path = event.path.startsWith('file://') ? fileURLToPath(event.path) : resolve(event.path);
  // an event without a hash is keyed (and checked) by the hash its model.json records
  const contentHash = event.contentHash || manifestHash(path);
  return {
    evaluationId: checkpointEvaluationId(job, event.step, contentHash),
    jobId: job,
    step: event.step,
    trigger: Trigger.event,
    source: event.path,
    contentHash,
    work: { kind: 'checkpoint', path, expectedHash: contentHash, metric: apMetricName(ApMetric.AP_METRIC_UNSPECIFIED), iouThreshold: DEFAULT_IOU },
  };
}
