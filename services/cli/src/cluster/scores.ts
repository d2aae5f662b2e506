// kd cluster's scores: the evaluator's reports and evaluation_done events as one kind of
// result, the wait for a trainer's model_final (event or poll), and the table rows they make.
import { EvaluationState, type EvaluationDone, type EvaluationReport } from '@kd/proto';
import type { EvaluatorClient } from './evaluator_client.ts';
import { checkpointModel, histogramMean, type ClusterRow } from './report.ts';

/** The teacher service's histogram of images per network run. */
const TEACHER_BATCH_METRIC = 'kd_teacher_batch_size_images';

/** One finished evaluation, from an evaluation_done event or a report. */
export interface Scored { evaluationId: string; meanAp: number; numImages: number; seconds: number; checkpoint: string }

export const fromReport = (r: EvaluationReport): Scored => ({ evaluationId: r.evaluationId, meanAp: r.meanAp, numImages: r.numImages, seconds: r.seconds, checkpoint: r.source });
export const fromEvent = (e: EvaluationDone): Scored => ({ evaluationId: e.evaluationId, meanAp: e.meanAp, numImages: e.numImages, seconds: e.seconds, checkpoint: e.checkpointPath });
export const isFinal = (path: string) => /(^|[/\\])model_final$/.test(path);

/** The closing table's row of a scored checkpoint. */
export function scoredRow(model: string, dir: string, s: Scored): ClusterRow {
  let params_m: number | undefined;
  try {
    params_m = checkpointModel(dir).params / 1e6;
  } catch {
    params_m = undefined; // a checkpoint the evaluator could read but not as a kd manifest: leave the column empty
  }
  return { model, params_m, map_11point: s.meanAp, eval_images_per_s: s.seconds > 0 ? s.numImages / s.seconds : undefined, checkpoint: dir, evaluation_id: s.evaluationId };
}

/**
 * The evaluation of a trainer's model_final: its evaluation_done event, or (should the event be
 * missed) its report from GetReport, polled every 2 s; a FAILED evaluation is an error.
 */
export async function waitForFinal(event: Deferred<Scored>, client: EvaluatorClient, job: string): Promise<Scored> {
  let done = false;
  const poll = async (): Promise<Scored> => {
    while (!done) {
      await sleep(2000, true);
      if (done) break;
      const r = await client.getReport({ jobId: job });
      if (!r || !isFinal(r.source)) continue;
      if (r.state === EvaluationState.EVALUATION_STATE_FAILED) throw new Error(`evaluator: evaluation of ${r.source} failed: ${r.error}`);
      if (r.state === EvaluationState.EVALUATION_STATE_DONE) return fromReport(r);
    }
    return event.promise;
  };
  try {
    return await Promise.race([event.promise, poll()]);
  } finally {
    done = true;
  }
}

/** Mean images per network run of the teacher service, from its /metrics; undefined if unreadable. */
export async function teacherBatchMean(metricsUrl: string, log: (line: string) => void): Promise<number | undefined> {
  try {
    const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) });
    return histogramMean(await res.text(), TEACHER_BATCH_METRIC);
  } catch (error) {
    log(`could not read the teacher's batch sizes from ${metricsUrl}: ${(error as Error).message}`);
    return undefined;
  }
}

export interface Deferred<T> { promise: Promise<T>; resolve(v: T): void }

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Waits `ms`; an `unref` wait does not keep the process alive by itself. */
export const sleep = (ms: number, unref = false) => new Promise<void>((r) => {
  const t = setTimeout(r, ms);
  if (unref) t.unref();
});
