import * as tf from '@tensorflow/tfjs-core';
import type { DistillConfig } from '@kd/config';
import { yoloV3Loss, type ExtraLoss, type HeadSpec, type StepBatch } from '@kd/detection';
import { alignTeacherOutputs, checkHeadPairing, checkOutputShapes } from './pairing.ts';
import { distillOptions } from './distill_options.ts';
import { createDistillLoss } from './registry.ts';

/** The loss name a config asks for: distill.method, else fine_grained when use_fine_grained_loss, else l2. */
export function distillMethod(distill: DistillConfig, useFineGrainedLoss: boolean): string {
  if (distill.method !== undefined) return distill.method;
  return useFineGrainedLoss ? 'fine_grained' : 'l2';
}

export interface TeacherDistillationOptions {
  student: HeadSpec;
  /** The teacher's head (from its model, or from the TeacherSpec a teacher service sent). */
  teacher: HeadSpec;
  distill: DistillConfig;
  useFineGrainedLoss: boolean;
  ignoreThresh: number;
  labelSmooth: boolean;
}

/** A training batch reached the distillation loss without its teacher outputs. */
export class MissingTeacherOutputsError extends Error {
  override name = 'MissingTeacherOutputsError';
}

/**
 * Distillation as an ExtraLoss: each batch carries the teacher's raw outputs for its images
 * (batch.teacher, fetched by a TeacherSource, in-process or remote); the teacher's own
 * detection loss is logged as teacher_loss, and the configured loss compares the raw
 * outputs, paired by stride. The heads are checked to pair before any step.
 */
export function teacherDistillation(o: TeacherDistillationOptions): ExtraLoss & { method: string } {
  const pairing = checkHeadPairing(o.student, o.teacher);
  const method = distillMethod(o.distill, o.useFineGrainedLoss);
  const loss = createDistillLoss(method, distillOptions(o.distill, method), 'distill');
  let teacherOutputs: tf.Tensor4D[] = [];
  let owned: tf.Tensor4D[] = [];
  return {
    method,
    prepare(_x: tf.Tensor4D, batch: StepBatch) {
      if (!batch.teacher) throw new MissingTeacherOutputsError(`batch ${batch.ids.slice(0, 4).join(', ')}... has no teacher outputs`);
      owned = batch.teacher;
      teacherOutputs = alignTeacherOutputs(pairing, batch.teacher);
      const teacherLoss = tf.tidy(() => yoloV3Loss(teacherOutputs, {
        batch: batch.ids.length, maxBoxes: batch.maxBoxes, gtBox: batch.gtBox, gtClass: batch.gtClass, gtScore: batch.gtScore, labeled: batch.labeled,
      }, o.student, { inputSize: batch.size, ignoreThresh: o.ignoreThresh, labelSmooth: o.labelSmooth }).total.dataSync()[0]);
      return { teacher_loss: teacherLoss };
    },
    loss(outputs: tf.Tensor4D[]) {
      checkOutputShapes(outputs, teacherOutputs);
      const result = loss({ student: outputs, teacher: teacherOutputs, spec: o.student });
      return { total: result.total, parts: { distill_loss: result.total, ...result.parts } };
    },
    release() {
      tf.dispose(owned);
      owned = [];
      teacherOutputs = [];
    },
  };
}
