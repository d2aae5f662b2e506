import { join } from 'node:path';
import { formatDuration, SmoothedValue } from './smoothed.ts';

/** Loss values of one step as numbers (`loss` = the minimised total) and the step's lr. */
export type LoopLosses = Record<string, number | undefined> & { loss: number; lr: number };

/** What the loop trains with: one optimisation step on a batch (a detector's or a classifier's). */
export interface LoopStep<B> {
  run(batch: B, step: number): LoopLosses | Promise<LoopLosses>;
}

/** What the loop reports after every step (progress bars, metrics, loss curves). */
export interface StepReport {
  step: number;
  maxIters: number;
  lr: number;
  losses: Record<string, number>;
  /** Seconds: the whole step, and the part spent waiting for the batch (loader, teacher). */
  batchCost: number;
  dataWait: number;
  /** Seconds of dataWait spent on the teacher's soft targets (distillation only). */
  teacherWait?: number;
  etaSeconds: number;
  images: number;
}

export interface TrainSummary {
  steps: number;
  seconds: number;
  images: number;
  /** Seconds the loop waited for batches, in total. */
  dataWaitSeconds: number;
  finalLoss: number;
  /** Best score (0..1) of the evaluations and its step, when `evaluate` was given. */
  bestScore?: number;
  bestStep?: number;
  /** Score of the last evaluation. */
  finalScore?: number;
  /** True when `signal` stopped the run before max_iters. */
  interrupted: boolean;
}

export interface TrainLoopOptions<B> {
  maxIters: number;
  logIter: number;
  snapshotIter: number;
  saveDir: string;
  step: LoopStep<B>;
  /** The batch of step `step` (0-based); awaited, so a loader or a remote teacher can be waited on. */
  nextBatch(step: number): Promise<B> | B;
  imagesIn(batch: B): number;
  /** Writes a checkpoint of the current weights (and optimizer) into `dir`; returns its content hash. */
  save(dir: string, step: number, extra: Record<string, unknown>): Promise<string>;
  /** First step to run (a resumed run starts where its checkpoint stopped). */
  startStep?: number;
  /** Scores the current weights (0..1, higher is better); best_model is kept by it. */
  evaluate?: (step: number) => Promise<number>;
  /** Evaluate at every snapshot too (else only after the last step). */
  evaluateAtSnapshots?: boolean;
  /** The best score of the run being resumed. */
  bestScore?: number;
  /** Key of the best score in checkpoints' extra (best_map, best_accuracy) and its log line. */
  score: { key: string; describe: (best: number, step: number | undefined) => string };
  /** Stored in every checkpoint's extra (e.g. the class names, for kd infer). */
  checkpointExtra?: Record<string, unknown>;
  log: (line: string) => void;
  onStep?: (report: StepReport) => void;
  /** After every checkpoint is written: its folder, the step and the weights' content hash. */
  onCheckpoint?: (dir: string, step: number, hash: string) => void | Promise<void>;
  /** Stops cleanly after the current step (model_final is still written). */
  signal?: AbortSignal;
}

/**
 * PaddleDetection's training loop, for any model: steps up to max_iters, a log line every
 * log_iter (medians over the window), a checkpoint every snapshot_iter (with an evaluation
 * and best_model when asked), model_final at the end.
 */
export async function trainLoop<B>(o: TrainLoopOptions<B>): Promise<TrainSummary> {
  const smoothed = new Map<string, SmoothedValue>();
  const cost = new SmoothedValue(o.logIter);
  let bestScore = o.bestScore ?? -1;
  let bestStep: number | undefined;
  let finalScore: number | undefined;
  let images = 0;
  let dataWaitSeconds = 0;
  let finalLoss = NaN;
  const start = performance.now();
  let step = o.startStep ?? 0;

  const snapshot = async (name: string) => {
    const dir = join(o.saveDir, name);
    const hash = await o.save(dir, step, { ...o.checkpointExtra, [o.score.key]: bestScore });
    o.log(`save checkpoint ${dir}`);
    await o.onCheckpoint?.(dir, step, hash);
  };
  const evaluateAndKeepBest = async () => {
    if (!o.evaluate) return;
    finalScore = await o.evaluate(step);
    if (finalScore > bestScore) {
      bestScore = finalScore;
      bestStep = step;
      await snapshot('best_model');
    }
    o.log(o.score.describe(bestScore, bestStep));
  };

  while (step < o.maxIters && !o.signal?.aborted) {
    // A macrotask turn per step: signals, /metrics scrapes and bus I/O are handled between steps
    // even when every await of a step resolves at once (a warm loader).
    await new Promise((resolve) => setImmediate(resolve));
    const t0 = performance.now();
    const batch = await o.nextBatch(step);
    const waited = (performance.now() - t0) / 1000;
    const { lr, ...reported } = await o.step.run(batch, step);
    const losses = Object.fromEntries(Object.entries(reported).filter((e): e is [string, number] => e[1] !== undefined));
    const batchCost = (performance.now() - t0) / 1000;
    const n = o.imagesIn(batch);
    step += 1;
    images += n;
    dataWaitSeconds += waited;
    finalLoss = losses.loss;
    cost.push(batchCost);
    for (const [k, v] of Object.entries(losses)) {
      if (!smoothed.has(k)) smoothed.set(k, new SmoothedValue(o.logIter));
      smoothed.get(k)!.push(v);
    }
    const etaSeconds = cost.median * (o.maxIters - step);
    o.onStep?.({ step, maxIters: o.maxIters, lr, losses, batchCost, dataWait: waited, etaSeconds, images: n });
    if (step % o.logIter === 0 || step === 1) {
      // `loss` (the minimised total) first, then its parts, as PaddleDetection logs them
      const parts = [...smoothed].sort(([a], [b]) => Number(b === 'loss') - Number(a === 'loss'))
        .map(([k, v]) => `${k} ${v.median.toFixed(6)}`).join(', ');
      o.log(`step ${step} lr ${lr.toFixed(6)}, ${parts}, eta: ${formatDuration(etaSeconds)}, batch_cost: ${cost.median.toFixed(5)} sec, ips: ${(n / cost.median).toFixed(5)} images/sec, data_wait: ${waited.toFixed(4)} sec`);
    }
    if (step % o.snapshotIter === 0 && step < o.maxIters) {
      await snapshot(String(step));
      if (o.evaluateAtSnapshots) await evaluateAndKeepBest();
    }
  }
  await snapshot('model_final');
  if (step >= o.maxIters) await evaluateAndKeepBest();
  return {
    steps: step - (o.startStep ?? 0),
    seconds: (performance.now() - start) / 1000,
    images,
    dataWaitSeconds,
    finalLoss,
    bestScore: bestScore >= 0 ? bestScore : undefined,
    bestStep,
    finalScore,
    interrupted: step < o.maxIters,
  };
}
