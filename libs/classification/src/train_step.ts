import * as tf from '@tensorflow/tfjs-core';
import type { ClassifierConfig } from '@kd/config';
import { applyStatUpdates, inferenceContext, learningRate, MomentumOptimizer, type ForwardContext } from '@kd/detection';
import type { CropBatch } from './crops.ts';
import type { ClassifierDistill } from './distill.ts';
import type { Classifier } from './model.ts';

/** Mean softmax cross-entropy of logits [N,K] against class indices [N]. */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(labels, logits.shape[1]), tf.logSoftmax(logits)), -1))) as tf.Scalar);
}

/** Loss values of one step (loss = ce + distill_loss, the minimised total) and its lr. */
export type ClassifierStepLosses = { loss: number; ce: number; distill_loss?: number; lr: number };

/**
 * One optimisation step of a classifier: forward, cross-entropy plus the optional
 * distillation term against a frozen teacher (inference mode, outside the gradient tape),
 * momentum update with L2 decay, BN statistics.
 */
export class ClassifierTrainStep {
  readonly optimizer: MomentumOptimizer;

  constructor(readonly model: Classifier, readonly config: ClassifierConfig, readonly distill?: ClassifierDistill) {
    this.optimizer = new MomentumOptimizer(config.optimizer.momentum, config.optimizer.weight_decay);
  }

  /** Runs step number `step` (0-based, picks the lr) on a batch. */
  run(batch: CropBatch, step: number): ClassifierStepLosses {
    const lr = learningRate(step, this.config.optimizer);
    const params = this.model.store.trainable();
    const ctx: ForwardContext = { training: true, statUpdates: [] };
    const kept: Record<string, tf.Scalar> = {};
    const x = tf.tensor4d(batch.images, [batch.count, batch.size, batch.size, 3]);
    const labels = tf.tensor1d(batch.labels, 'int32');
    const teacherLogits = this.distill ? tf.tidy(() => this.distill!.teacher.forward(x, inferenceContext())) : undefined;
    try {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const logits = this.model.forward(x, ctx);
          const ce = softmaxCrossEntropy(logits, labels);
          kept.ce = ce;
          let total = ce;
          if (this.distill && teacherLogits) {
            const kd = this.distill.loss(logits, teacherLogits);
            kept.distill_loss = kd.total;
            total = tf.add(ce, kd.total);
          }
          kept.loss = total;
          for (const t of Object.values(kept)) tf.keep(t);
          return total;
        }, params.map((p) => p.variable));
        this.optimizer.apply(params, grads, lr);
      });
      applyStatUpdates(ctx);
      const values = Object.fromEntries(Object.entries(kept).map(([k, t]) => [k, t.dataSync()[0]]));
      if (!Number.isFinite(values.loss)) throw new Error(`loss is ${values.loss} at step ${step}`);
      return { ...values, lr } as ClassifierStepLosses;
    } finally {
      tf.dispose([x, labels, ...(teacherLogits ? [teacherLogits] : []), ...new Set(Object.values(kept))]);
      for (const u of ctx.statUpdates) tf.dispose([u.batchMean, u.batchVariance]);
    }
  }
}
