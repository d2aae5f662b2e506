import { join } from 'node:path';
import type { ClassifierConfig } from '@kd/config';
import { formatDuration, saveCheckpoint, SmoothedValue } from '@kd/detection';
import type { CropBatcher } from './crops.ts';
import type { ClassifierTrainStep } from './train_step.ts';

/** What the loop reports after every step (progress bars). */
export interface ClassifierStepReport {
  step: number;
  maxIters: number;
  lr: number;
  losses: Record<string, number>;
  etaSeconds: number;
}

export interface ClassifierTrainSummary {
  steps: number;
  seconds: number;
  images: number;
  finalLoss: number;
  /** Best top-1 accuracy (0..1) of the evaluations and its step, when `evaluate` was given. */
  bestAccuracy?: number;
  bestStep?: number;
  /** Accuracy of the last evaluation (after the final step). */
  finalAccuracy?: number;
}

export interface ClassifierLoopOptions {
  config: ClassifierConfig;
  trainStep: ClassifierTrainStep;
  batches: CropBatcher;
  /** First step to run (a resumed run starts where its checkpoint stopped). */
  startStep?: number;
  /** Top-1 accuracy (0..1) of the current weights; best_model is kept by it. */
  evaluate?: (step: number) => Promise<number>;
  /** Also evaluate at every snapshot (else only after the last step). */
  evaluateAtSnapshots?: boolean;
  bestAccuracy?: number;
  /** Stored in every checkpoint's model.json (e.g. the class names). */
  checkpointExtra?: Record<string, unknown>;
  log: (line: string) => void;
  onStep?: (report: ClassifierStepReport) => void;
  /** Stops cleanly after the current step (a final checkpoint is still written). */
  signal?: AbortSignal;
}

/**
 * The detector's loop for a classifier: steps up to max_iters, a PaddleDetection-style log line
 * every log_iter (medians over the window), a checkpoint every snapshot_iter, model_final at the end.
 */
export async function trainClassifierLoop(o: ClassifierLoopOptions): Promise<ClassifierTrainSummary> {
  const { config, trainStep } = o;
  const smoothed = new Map<string, SmoothedValue>();
  const cost = new SmoothedValue(config.log_iter);
  let bestAccuracy = o.bestAccuracy ?? -1;
  let bestStep: number | undefined;
  let finalAccuracy: number | undefined;
  let images = 0;
  let finalLoss = NaN;
  const start = performance.now();
  let step = o.startStep ?? 0;

  const snapshot = async (name: string) => {
    const dir = join(config.save_dir, name);
    await saveCheckpoint(dir, trainStep.model.store, config, step, {
      optimizer: trainStep.optimizer, extra: { ...o.checkpointExtra, best_accuracy: bestAccuracy },
    });
    return dir;
  };
  const evaluateAndKeepBest = async () => {
    if (!o.evaluate) return;
    finalAccuracy = await o.evaluate(step);
    if (finalAccuracy > bestAccuracy) {
      bestAccuracy = finalAccuracy;
      bestStep = step;
      await snapshot('best_model');
    }
    o.log(`Best top-1 accuracy: ${(bestAccuracy * 100).toFixed(2)}%, in step: ${bestStep ?? 'an earlier run'}`);
  };

  while (step < config.max_iters && !o.signal?.aborted) {
    const t0 = performance.now();
    const batch = o.batches.batch(step);
    const { lr, ...losses } = trainStep.run(batch, step);
    const batchCost = (performance.now() - t0) / 1000;
    step += 1;
    images += batch.count;
    finalLoss = losses.loss;
    cost.push(batchCost);
    for (const [k, v] of Object.entries(losses)) {
      if (v === undefined) continue;
      if (!smoothed.has(k)) smoothed.set(k, new SmoothedValue(config.log_iter));
      smoothed.get(k)!.push(v);
    }
    const etaSeconds = cost.median * (config.max_iters - step);
    o.onStep?.({ step, maxIters: config.max_iters, lr, losses: losses as Record<string, number>, etaSeconds });
    if (step % config.log_iter === 0 || step === 1) {
      // `loss` (the minimised total) first, then its parts
      const parts = [...smoothed].sort(([a], [b]) => Number(b === 'loss') - Number(a === 'loss'))
        .map(([k, v]) => `${k} ${v.median.toFixed(6)}`).join(', ');
      o.log(`step ${step} lr ${lr.toFixed(6)}, ${parts}, eta: ${formatDuration(etaSeconds)}, batch_cost: ${cost.median.toFixed(5)} sec, ips: ${(batch.count / cost.median).toFixed(5)} images/sec`);
    }
    if (step % config.snapshot_iter === 0 && step < config.max_iters) {
      o.log(`save checkpoint ${await snapshot(String(step))}`);
      if (o.evaluateAtSnapshots) await evaluateAndKeepBest();
    }
  }
  o.log(`save checkpoint ${await snapshot('model_final')}`);
  if (step >= config.max_iters) await evaluateAndKeepBest();
  return {
    steps: step - (o.startStep ?? 0),
    seconds: (performance.now() - start) / 1000,
    images,
    finalLoss,
    bestAccuracy: bestAccuracy >= 0 ? bestAccuracy : undefined,
    bestStep,
    finalAccuracy,
  };
}
