import { join } from 'node:path';
import type { KdConfig } from '@kd/config';
import type { TrainBatch } from '@kd/data';
import { saveCheckpoint } from '../checkpoint/checkpoint.ts';
import { formatDuration, SmoothedValue } from './smoothed.ts';
import type { StepRunner } from './train_step.ts';

/** What the loop reports after every step (for progress bars and metrics). */
export interface StepReport {
  step: number;
  maxIters: number;
  lr: number;
  losses: Record<string, number>;
  /** Seconds: the whole step, and the part spent waiting for the loader. */
  batchCost: number;
  dataWait: number;
  etaSeconds: number;
}

export interface TrainSummary {
  steps: number;
  seconds: number;
  images: number;
  /** Seconds the trainer waited on the loader, in total. */
  dataWaitSeconds: number;
  bestMap?: number;
  bestStep?: number;
  finalLoss: number;
}

export interface TrainLoopOptions {
  config: KdConfig;
  trainStep: StepRunner;
  batches: AsyncIterator<TrainBatch>;
  /** First step to run (a resumed run starts where its checkpoint stopped). */
  startStep?: number;
  /** Scores the current weights (VOC mAP, 0..1); when given, best_model is kept by it. */
  evaluate?: (step: number) => Promise<number>;
  bestMap?: number;
  /** Stored in every checkpoint's model.json (e.g. the class names, for kd infer). */
  checkpointExtra?: Record<string, unknown>;
  log: (line: string) => void;
  onStep?: (report: StepReport) => void;
  /** Stops cleanly after the current step (a final checkpoint is still written). */
  signal?: AbortSignal;
}

/**
 * PaddleDetection's training loop: steps up to max_iters, a log line every log_iter, a
 * checkpoint every snapshot_iter (and evaluation with best_model when `evaluate` is given),
 * model_final at the end.
 */
export async function trainLoop(o: TrainLoopOptions): Promise<TrainSummary> {
  const { config, trainStep } = o;
  const smoothed = new Map<string, SmoothedValue>();
  const cost = new SmoothedValue(config.log_iter);
  let bestMap = o.bestMap ?? -1;
  let bestStep: number | undefined;
  let images = 0;
  let dataWaitSeconds = 0;
  let finalLoss = NaN;
  const start = performance.now();
  let step = o.startStep ?? 0;

  const snapshot = async (name: string, done: number) => {
    const dir = join(config.save_dir, name);
    await saveCheckpoint(dir, trainStep.model.store, config, done, { optimizer: trainStep.optimizer, extra: { ...o.checkpointExtra, best_map: bestMap } });
    return dir;
  };

  const evaluateAndKeepBest = async () => {
    if (!o.evaluate) return;
    const map = await o.evaluate(step);
    if (map > bestMap) {
      bestMap = map;
      bestStep = step;
      await snapshot('best_model', step);
    }
    o.log(`Best test box ap: ${(bestMap * 100).toFixed(2)}, in step: ${bestStep ?? 'an earlier run'}`);
  };

  while (step < config.max_iters && !o.signal?.aborted) {
    const t0 = performance.now();
    const next = await o.batches.next();
    if (next.done) throw new Error('the data loader ended before max_iters');
    const batch = next.value;
    const waited = (performance.now() - t0) / 1000;
    const { lr, ...losses } = await trainStep.run(batch, step);
    const batchCost = (performance.now() - t0) / 1000;
    step += 1;
    images += batch.ids.length;
    dataWaitSeconds += waited;
    finalLoss = losses.loss;
    cost.push(batchCost);
    for (const [k, v] of Object.entries(losses)) {
      if (!smoothed.has(k)) smoothed.set(k, new SmoothedValue(config.log_iter));
      smoothed.get(k)!.push(v);
    }
    const etaSeconds = cost.median * (config.max_iters - step);
    o.onStep?.({ step, maxIters: config.max_iters, lr, losses, batchCost, dataWait: waited, etaSeconds });
    if (step % config.log_iter === 0 || step === 1) {
      // `loss` (the minimised total) first, then its parts, as PaddleDetection logs them
      const parts = [...smoothed].sort(([a], [b]) => Number(b === 'loss') - Number(a === 'loss'))
        .map(([k, v]) => `${k} ${v.median.toFixed(6)}`).join(', ');
      o.log(`step ${step} lr ${lr.toFixed(6)}, ${parts}, eta: ${formatDuration(etaSeconds)}, batch_cost: ${cost.median.toFixed(5)} sec, ips: ${(batch.ids.length / cost.median).toFixed(5)} images/sec, data_wait: ${waited.toFixed(4)} sec`);
    }
    if (step % config.snapshot_iter === 0 && step < config.max_iters) {
      const dir = await snapshot(String(step), step);
      o.log(`save checkpoint ${dir}`);
      await evaluateAndKeepBest();
    }
  }
  const finalDir = await snapshot('model_final', step);
  o.log(`save checkpoint ${finalDir}`);
  if (step >= config.max_iters) await evaluateAndKeepBest();
  return {
    steps: step - (o.startStep ?? 0),
    seconds: (performance.now() - start) / 1000,
    images,
    dataWaitSeconds,
    bestMap: bestMap >= 0 ? bestMap : undefined,
    bestStep,
    finalLoss,
  };
}
