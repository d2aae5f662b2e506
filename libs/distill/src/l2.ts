import * as tf from '@tensorflow/tfjs-core';
import { checkOutputShapes } from './pairing.ts';
import { stopGradient } from './stop_gradient.ts';
import type { DistillLossResult } from './types.ts';

/**
 * PaddleDetection's l2_distill on raw head outputs [N,H,W,A*(5+C)] per scale (same shapes):
 * weight * sum_s mean((S_s - T_s)^2).
 */
export function l2Distill(student: tf.Tensor4D[], teacher: tf.Tensor4D[], weight = 100): DistillLossResult {
  checkOutputShapes(student, teacher);
  return tf.tidy(() => {
    const perScale = student.map((s, i) => tf.mean(tf.squaredDifference(s, stopGradient(teacher[i]))));
    const total = tf.mul(tf.addN(perScale), weight) as tf.Scalar;
    return { total, parts: { distill_l2: tf.clone(total) } };
  });
}
