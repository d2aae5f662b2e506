import * as tf from '@tensorflow/tfjs-core';
import type { KdConfig } from '@kd/config';
import type { TrainBatch } from '@kd/data';
import { applyStatUpdates, type ForwardContext } from '../model/layers.ts';
import type { YoloV3 } from '../model/yolov3.ts';
import { yoloV3Loss } from '../loss/yolov3_loss.ts';
import { learningRate } from './lr_schedule.ts';
import { MomentumOptimizer } from './momentum.ts';

/** Loss values of one step, as numbers (loss = the total that was minimised). */
export type StepLosses = Record<string, number> & { loss: number };

/**
 * A training batch as a step sees it: the loader's batch plus, when distilling, the teacher's
 * raw head outputs for exactly these images (fetched ahead by a TeacherSource; owned by the
 * step, whose ExtraLoss releases them).
 */
export type StepBatch = TrainBatch & { teacher?: tf.Tensor4D[] };

/**
 * An extra loss term added to the detection loss (distillation plugs in here). `prepare` runs
 * before the student's forward pass, outside the gradient tape, and may return values that
 * are only logged; `loss` gets the student's raw outputs inside the tape and returns its
 * total and named parts (scalars); `release` frees what prepare kept and the batch's teacher outputs.
 */
export interface ExtraLoss {
  prepare?(x: tf.Tensor4D, batch: StepBatch): Record<string, number>;
  loss(outputs: tf.Tensor4D[], batch: StepBatch): { total: tf.Scalar; parts: Record<string, tf.Scalar> };
  release?(): void;
}

/**
 * The gradients of one batch (or one shard of it) before they are applied: `grads` by variable
 * name and the BN batch statistics of the forward pass (both owned by the caller, who applies
 * or disposes them), and the batch-mean losses as numbers.
 */
export interface BatchGradients {
  grads: tf.NamedTensorMap;
  ctx: ForwardContext;
  losses: StepLosses;
}

/** What runs one optimisation step: a TrainStep, or a ReplicatedTrainStep that splits it over threads. */
export interface StepRunner {
  readonly model: YoloV3;
  readonly optimizer: MomentumOptimizer;
  run(batch: StepBatch, step: number): (StepLosses & { lr: number }) | Promise<StepLosses & { lr: number }>;
}

/** One optimisation step of a YOLOv3 detector: forward, loss, gradients, momentum update, BN statistics. */
export class TrainStep implements StepRunner {
  readonly optimizer: MomentumOptimizer;

  constructor(readonly model: YoloV3, readonly config: KdConfig, readonly extraLoss?: ExtraLoss) {
    this.optimizer = new MomentumOptimizer(config.optimizer.momentum, config.optimizer.weight_decay);
  }

  /** Runs step number `step` (0-based, picks the lr) on a batch; returns the loss values. */
  run(batch: StepBatch, step: number): StepLosses & { lr: number } {
    const lr = learningRate(step, this.config.optimizer);
    const computed = this.gradients(batch);
    this.apply(computed, lr, batch, step);
    return { ...computed.losses, lr };
  }

  /** Forward, loss and gradients of a batch, without touching the weights. */
  gradients(batch: StepBatch): BatchGradients {
    const params = this.model.store.trainable();
    const ctx: ForwardContext = { training: true, statUpdates: [] };
    const kept: Record<string, tf.Scalar> = {};
    const x = tf.tensor4d(batch.images, [batch.ids.length, batch.size, batch.size, 3]);
    try {
      const logged = this.extraLoss?.prepare?.(x, batch) ?? {};
      const grads = tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const outputs = this.model.forward(x, ctx);
          const det = yoloV3Loss(outputs, {
            batch: batch.ids.length, maxBoxes: batch.maxBoxes, gtBox: batch.gtBox, gtClass: batch.gtClass, gtScore: batch.gtScore, labeled: batch.labeled,
          }, this.model.spec, {
            inputSize: batch.size, ignoreThresh: this.config.yolo_head.ignore_thresh, labelSmooth: this.config.yolo_head.label_smooth,
          });
          const terms: tf.Scalar[] = [det.total];
          Object.assign(kept, { loss_xy: det.xy, loss_wh: det.wh, loss_obj: det.obj, loss_cls: det.cls });
          if (this.extraLoss) {
            const extra = this.extraLoss.loss(outputs, batch);
            terms.push(extra.total);
            Object.assign(kept, extra.parts);
          }
          const total = terms.length === 1 ? terms[0] : (tf.addN(terms) as tf.Scalar);
          kept.loss = total;
          for (const t of Object.values(kept)) tf.keep(t);
          return total;
        }, params.map((p) => p.variable));
        return grads;
      });
      const losses = { ...Object.fromEntries(Object.entries(kept).map(([k, t]) => [k, t.dataSync()[0]])), ...logged } as StepLosses;
      return { grads, ctx, losses };
    } catch (error) {
      disposeStats(ctx);
      throw error;
    } finally {
      this.extraLoss?.release?.();
      x.dispose();
      tf.dispose(Object.values(kept));
    }
  }

  /** Applies computed gradients with learning rate `lr` and moves the BN running statistics; disposes both. */
  apply(computed: BatchGradients, lr: number, batch: TrainBatch, step: number): void {
    try {
      if (!Number.isFinite(computed.losses.loss)) throw new Error(`loss is ${computed.losses.loss} at step ${step} (batch ${batch.ids.slice(0, 4).join(', ')}...)`);
      this.optimizer.apply(this.model.store.trainable(), computed.grads, lr);
      applyStatUpdates(computed.ctx);
    } finally {
      discardGradients(computed);
    }
  }
}

function disposeStats(ctx: ForwardContext): void {
  for (const u of ctx.statUpdates) tf.dispose([u.batchMean, u.batchVariance]);
  ctx.statUpdates.length = 0;
}

/** Frees computed gradients and BN batch statistics that will not be applied (or have been). */
export function discardGradients(computed: BatchGradients): void {
  tf.dispose(computed.grads);
  disposeStats(computed.ctx);
}
