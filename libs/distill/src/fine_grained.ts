import * as tf from '@tensorflow/tfjs-core';
import { anchorRows, channelScale, objectnessColumn, splitParts, splitTermSums } from './head_terms.ts';
import { checkOutputShapes } from './pairing.ts';
import { stopGradient } from './stop_gradient.ts';
import type { DistillLossResult } from './types.ts';

/**
 * PaddleDetection's split_distill (use_fine_grained_loss) on raw head outputs [N,H,W,A*(5+C)]
 * per scale, sig = sigmoid:
 *   reg = mean_{n,a,i,j}[(BCE(s_x,sig t_x) + BCE(s_y,sig t_y) + |s_w-t_w| + |s_h-t_h|) * sig(t_obj)]
 *   cls = mean_{n,a,i,j,k}[BCE(s_cls, sig t_cls) * sig(t_obj)]
 *   obj = mean_{n,a,i,j}[BCE(s_obj, 1[t_obj > 0])]
 *   L = weight * sum_scales (reg + cls + obj), weight 1000 in PaddleDetection.
 */
export function fineGrainedDistill(student: tf.Tensor4D[], teacher: tf.Tensor4D[], numClasses: number, weight = 1000): DistillLossResult {
  checkOutputShapes(student, teacher);
  return tf.tidy(() => {
    const weighted = student.map((output, i) => {
      const s = anchorRows(output, numClasses);
      const t = anchorRows(stopGradient(teacher[i]), numClasses);
      const tObj = objectnessColumn(t);
      // step(x) is 1 for x > 0, else 0: the hard mask on the teacher logit
      const sums = splitTermSums(s, t, tf.step(tObj), tf.sigmoid(tObj));
      const rows = s.shape[0];
      const box = weight / rows;
      return tf.mul(sums, channelScale(numClasses, { box, obj: box, cls: weight / (rows * numClasses) }));
    });
    return splitParts(tf.addN(weighted) as tf.Tensor1D, numClasses);
  });
}
