// The work a loader worker does for one batch; plain functions of (job, context), so the
// same code runs in a worker thread or in-process (workers: 0).
import type { DataProblem, DetectionSample, EvalBatch, TrainBatch, VocRecord } from '../types.ts';
import { Rng, deriveSeed } from '../random.ts';
import { decodeImage, decodeRecord } from '../transforms/decode.ts';
import { SampleError } from '../transforms/errors.ts';
import { augmentSample, type AugmentOptions } from '../transforms/pipeline.ts';
import { assembleEvalBatch, assembleTrainBatch } from '../transforms/batch.ts';
import type { BatchPlan } from './schedule.ts';
import { LoaderError } from './errors.ts';

export interface TrainJob {
  kind: 'train';
  plan: BatchPlan;
  augment: AugmentOptions;
  maxBoxes: number;
}

export interface EvalJob {
  kind: 'eval';
  index: number;
  records: number[];
  size: number;
}

export type Job = TrainJob | EvalJob;

/** A computed batch (null for an eval batch whose every image failed), the problems met, and how many samples were substituted. */
export interface JobResult {
  batch: TrainBatch | EvalBatch | null;
  problems: DataProblem[];
  replaced: number;
}

/** What a worker knows: the dataset, and which records it has already found unreadable. */
export interface JobContext {
  records: VocRecord[];
  classIndex: Map<string, number>;
  bad: Set<number>;
}

/** A corrupt image is substituted by a random record, at most this many times in a row. */
export const MAX_SUBSTITUTIONS = 20;

export function createContext(records: VocRecord[], classes: readonly string[]): JobContext {
  return { records, classIndex: new Map(classes.map((c, i) => [c, i])), bad: new Set() };
}

/**
 * Decodes record `start`, or when it is unreadable a substitute drawn from `rng`. The draws do
 * not depend on whether a bad record was tried or already known bad, so results stay seeded.
 */
async function loadOrSubstitute(ctx: JobContext, start: number, rng: Rng, out: JobResult): Promise<DetectionSample> {
  let index = start;
  for (let attempt = 0; attempt <= MAX_SUBSTITUTIONS; attempt++) {
    if (!ctx.bad.has(index)) {
      try {
        return await decodeRecord(ctx.records[index], ctx.classIndex);
      } catch (error) {
        if (!(error instanceof SampleError)) throw error;
        ctx.bad.add(index);
        out.problems.push(error.problem);
      }
    }
    out.replaced++;
    index = rng.int(0, ctx.records.length);
  }
  throw new LoaderError(`no readable image in ${MAX_SUBSTITUTIONS + 1} tries, starting from ${ctx.records[start].imagePath}`);
}

async function runTrain(job: TrainJob, ctx: JobContext): Promise<JobResult> {
  const out: JobResult = { batch: null, problems: [], replaced: 0 };
  const samples = await Promise.all(
    job.plan.samples.map(async (p) => {
      const [primary, partner] = await Promise.all([
        loadOrSubstitute(ctx, p.record, new Rng(deriveSeed(p.seed, 1)), out),
        p.partner >= 0 ? loadOrSubstitute(ctx, p.partner, new Rng(deriveSeed(p.seed, 2)), out) : null,
      ]);
      return augmentSample(primary, partner, new Rng(deriveSeed(p.seed, 3)), job.augment);
    }),
  );
  out.batch = assembleTrainBatch(samples, job.plan.size, job.maxBoxes);
  return out;
}

async function runEval(job: EvalJob, ctx: JobContext): Promise<JobResult> {
  const out: JobResult = { batch: null, problems: [], replaced: 0 };
  const decoded = await Promise.all(
    job.records.map(async (i): Promise<DetectionSample | null> => {
      const r = ctx.records[i];
      try {
        const { pixels, width, height } = await decodeImage(r.imagePath);
        const none = new Float32Array(0);
        return { id: r.id, pixels, width, height, boxes: none, classes: new Int32Array(0), difficult: new Uint8Array(0), scores: none };
      } catch (error) {
        if (!(error instanceof SampleError)) throw error;
        out.problems.push(error.problem);
        return null;
      }
    }),
  );
  const ok = decoded.filter((s): s is DetectionSample => s !== null);
  out.batch = ok.length > 0 ? assembleEvalBatch(ok, job.size) : null;
  return out;
}

/** Runs one job. */
export function runJob(job: Job, ctx: JobContext): Promise<JobResult> {
  return job.kind === 'train' ? runTrain(job, ctx) : runEval(job, ctx);
}

/** The ArrayBuffers of a result, to transfer instead of copy. */
export function transferables(result: JobResult): ArrayBuffer[] {
  const b = result.batch;
  if (!b) return [];
  const arrays = 'gtBox' in b ? [b.images, b.gtBox, b.gtClass, b.gtScore, b.labeled] : [b.images, b.origWidth, b.origHeight];
  return arrays.map((a) => a.buffer as ArrayBuffer);
}
