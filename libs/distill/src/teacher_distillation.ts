import * as tf from '@tensorflow/tfjs-core';
import type { DistillConfig } from '@kd/config';
import type { TrainBatch } from '@kd/data';
import { inferenceContext, yoloV3Loss, type ExtraLoss, type HeadSpec, type YoloV3 } from '@kd/detection';
import { alignTeacherOutputs, checkHeadPairing } from './pairing.ts';
import { createDistillLoss } from './registry.ts';

/** The loss name a config asks for: distill.method, else fine_grained when use_fine_grained_loss, else l2. */
export function distillMethod(distill: DistillConfig, useFineGrainedLoss: boolean): string {
  if (distill.method !== undefined) return distill.method;
  return useFineGrainedLoss ? 'fine_grained' : 'l2';
}

export interface TeacherDistillationOptions {
  student: HeadSpec;
  /** A frozen teacher: inference-mode BN, never in the optimizer's variable list. */
  teacher: YoloV3;
  distill: DistillConfig;
  useFineGrainedLoss: boolean;
  ignoreThresh: number;
  labelSmooth: boolean;
}

/**
 * Distillation from an in-process teacher as an ExtraLoss: the teacher runs on each batch
 * before the student's forward pass (outside the gradient tape), its own detection loss is
 * logged as teacher_loss, and the configured loss compares the raw outputs, paired by stride.
 */
export function teacherDistillation(o: TeacherDistillationOptions): ExtraLoss & { method: string } {
  const pairing = checkHeadPairing(o.student, o.teacher.spec);
  const method = distillMethod(o.distill, o.useFineGrainedLoss);
  const { method: _method, ...options } = o.distill;
  const loss = createDistillLoss(method, options, 'distill');
  let teacherOutputs: tf.Tensor4D[] = [];
  return {
    method,
    prepare(x: tf.Tensor4D, batch: TrainBatch) {
      teacherOutputs = tf.tidy(() => alignTeacherOutputs(pairing, o.teacher.forward(x, inferenceContext())));
      const teacherLoss = tf.tidy(() => yoloV3Loss(teacherOutputs, {
        batch: batch.ids.length, maxBoxes: batch.maxBoxes, gtBox: batch.gtBox, gtClass: batch.gtClass, gtScore: batch.gtScore, labeled: batch.labeled,
      }, o.student, { inputSize: batch.size, ignoreThresh: o.ignoreThresh, labelSmooth: o.labelSmooth }).total.dataSync()[0]);
      return { teacher_loss: teacherLoss };
    },
    loss(outputs: tf.Tensor4D[]) {
      const result = loss({ student: outputs, teacher: teacherOutputs, spec: o.student });
      return { total: result.total, parts: { distill_loss: result.total, ...result.parts } };
    },
    release() {
      tf.dispose(teacherOutputs);
      teacherOutputs = [];
    },
  };
}
