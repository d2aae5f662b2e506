import * as tf from '@tensorflow/tfjs-core';
import type { HeadSpec } from '../model/yolov3.ts';
import { bceWithLogits } from './bce.ts';
import { ignoreMask } from './ignore_mask.ts';
import { buildTargets, type GroundTruthBatch, type ScaleTargets } from './targets.ts';

export interface YoloLossOptions {
  inputSize: number;
  ignoreThresh: number;
  labelSmooth: boolean;
}

/** The loss total and its parts, each a scalar; parts are summed over the three scales. */
export interface YoloLossParts {
  total: tf.Scalar;
  xy: tf.Scalar;
  wh: tf.Scalar;
  obj: tf.Scalar;
  cls: tf.Scalar;
}

/**
 * Lays one scale's targets out like the head output [N,H,W,A*(5+C)]: a target value per
 * channel, a BCE weight (x, y, obj, cls channels) and an L1 weight (w, h channels), so the
 * loss is a few elementwise ops on the whole output instead of per-channel slices.
 */
function denseTargets(t: ScaleTargets, ignored: Float32Array, C: number, labeled?: Uint8Array) {
  const K = 5 + C;
  const cells = t.positive.length;
  const perImage = t.height * t.width * t.anchors;
  const target = new Float32Array(cells * K);
  const bceWeight = new Float32Array(cells * K);
  const l1Weight = new Float32Array(cells * K);
  for (let i = 0; i < cells; i++) {
    const o = i * K;
    if (labeled && labeled[Math.floor(i / perImage)] === 0) continue; // unlabeled: every weight stays 0
    if (t.positive[i] > 0) {
      target.set([t.tx[i], t.ty[i], t.tw[i], t.th[i], 1], o);
      target.set(t.tcls.subarray(i * C, i * C + C), o + 5);
      bceWeight[o] = bceWeight[o + 1] = t.boxScale[i];
      l1Weight[o + 2] = l1Weight[o + 3] = t.boxScale[i];
      bceWeight.fill(t.weight[i], o + 4, o + K);
    } else if (ignored[i] === 0) {
      bceWeight[o + 4] = 1; // a negative: objectness towards 0
    }
  }
  return { target, bceWeight, l1Weight };
}

/** Images the loss averages over: the labeled ones (at least 1, so an all-unlabeled batch gives 0). */
function labeledImages(gt: GroundTruthBatch): number {
  if (!gt.labeled) return gt.batch;
  return Math.max(1, gt.labeled.reduce((n, v) => n + (v ? 1 : 0), 0));
}

/**
 * PaddleDetection's YOLOv3 loss on raw head outputs [N,H,W,A*(5+C)] (strides 32, 16, 8):
 *   xy  = sum_pos scale * (BCE(t_x, tx) + BCE(t_y, ty))
 *   wh  = sum_pos scale * (|t_w - tw| + |t_h - th|)
 *   obj = sum_pos score * BCE(o, 1) + sum_{neg, not ignored} BCE(o, 0)
 *   cls = sum_pos score * sum_k BCE(p_k, y_k)
 * with scale = (2 - gw*gh) * score; each summed per image, then averaged over the batch's
 * labeled images (unlabeled ones, for distillation, get no detection loss).
 */
export function yoloV3Loss(outputs: tf.Tensor4D[], gt: GroundTruthBatch, spec: HeadSpec, options: YoloLossOptions): YoloLossParts {
  const targets = buildTargets(gt, options.inputSize, spec, options.labelSmooth);
  const C = spec.numClasses;
  const K = 5 + C;
  return tf.tidy(() => {
    const channelSums = outputs.map((output, s) => {
      const shape = output.shape;
      const anchors = spec.anchorMasks[s].map((a) => spec.anchors[a]);
      const ignored = ignoreMask(output.dataSync() as Float32Array, shape, C, gt, anchors, options.inputSize, options.ignoreThresh);
      const dense = denseTargets(targets[s], ignored, C, gt.labeled);
      const target = tf.tensor4d(dense.target, shape);
      const perElement = tf.add(
        tf.mul(bceWithLogits(output, target), tf.tensor4d(dense.bceWeight, shape)),
        tf.mul(tf.abs(tf.sub(output, target)), tf.tensor4d(dense.l1Weight, shape)),
      );
      // [A*K] per-channel sums -> [K]: x, y, w, h, obj, cls_0..cls_{C-1}
      return tf.sum(tf.reshape(tf.sum(perElement, [0, 1, 2]), [-1, K]), 0);
    });
    const perChannel = tf.div(tf.addN(channelSums), labeledImages(gt));
    const part = (begin: number, size: number) => tf.sum(tf.slice(perChannel, [begin], [size])) as tf.Scalar;
    const xy = part(0, 2);
    const wh = part(2, 2);
    const obj = part(4, 1);
    const cls = part(5, C);
    return { total: tf.sum(perChannel) as tf.Scalar, xy, wh, obj, cls };
  });
}
