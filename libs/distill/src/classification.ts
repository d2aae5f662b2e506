import * as tf from '@tensorflow/tfjs-core';
import { checkOutputShapes } from './pairing.ts';
import { stopGradient } from './stop_gradient.ts';
import type { DistillLossResult } from './types.ts';

/** Logit matching for a classifier, student/teacher logits [N,K]: weight * mean((s - t)^2). */
export function logitL2(student: tf.Tensor2D, teacher: tf.Tensor2D, weight = 1): DistillLossResult {
  checkOutputShapes([student], [teacher]);
  return tf.tidy(() => {
    const total = tf.mul(tf.mean(tf.squaredDifference(student, stopGradient(teacher))), weight) as tf.Scalar;
    return { total, parts: { kd_logit_l2: tf.clone(total) } };
  });
}

/**
 * Hinton's soft-target KD, logits [N,K]: weight * tau^2 * mean_n sum_k p_t (log p_t - log p_s)
 * with p = softmax(logits / tau); tau^2 keeps gradient magnitudes comparable across tau.
 */
export function softKl(student: tf.Tensor2D, teacher: tf.Tensor2D, tau: number, weight = 1): DistillLossResult {
  checkOutputShapes([student], [teacher]);
  return tf.tidy(() => {
    const logPt = tf.logSoftmax(tf.div(stopGradient(teacher), tau));
    const logPs = tf.logSoftmax(tf.div(student, tau));
    const kl = tf.sum(tf.mul(tf.exp(logPt), tf.sub(logPt, logPs)), -1);
    const total = tf.mul(tf.mean(kl), weight * tau * tau) as tf.Scalar;
    return { total, parts: { kd_soft_kl: tf.clone(total) } };
  });
}
