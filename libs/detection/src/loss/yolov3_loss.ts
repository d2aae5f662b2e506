import * as tf from '@tensorflow/tfjs-core';
import type { HeadSpec } from '../model/yolov3.ts';
import { bceWithLogits } from './bce.ts';
import { ignoreMask } from './ignore_mask.ts';
import { buildTargets, type GroundTruthBatch } from './targets.ts';

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

/** GT boxes (cx, cy, w, h) -> corners, for the ignore test; padding rows stay empty. */
function gtCorners(gt: GroundTruthBatch): tf.Tensor3D {
  const out = new Float32Array(gt.gtBox.length);
  for (let r = 0; r < gt.gtBox.length; r += 4) {
    const [cx, cy, w, h] = gt.gtBox.subarray(r, r + 4);
    if (!(w > 0 && h > 0)) continue;
    out.set([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], r);
  }
  return tf.tensor3d(out, [gt.batch, gt.maxBoxes, 4]);
}

/**
 * PaddleDetection's YOLOv3 loss on raw head outputs [N,H,W,A*(5+C)] (strides 32, 16, 8):
 *   xy  = sum_pos scale * (BCE(t_x, tx) + BCE(t_y, ty))
 *   wh  = sum_pos scale * (|t_w - tw| + |t_h - th|)
 *   obj = sum_pos score * BCE(o, 1) + sum_{neg, not ignored} BCE(o, 0)
 *   cls = sum_pos score * sum_k BCE(p_k, y_k)
 * with scale = (2 - gw*gh) * score; each summed per image, then averaged over the batch.
 */
export function yoloV3Loss(outputs: tf.Tensor4D[], gt: GroundTruthBatch, spec: HeadSpec, options: YoloLossOptions): YoloLossParts {
  const targets = buildTargets(gt, options.inputSize, spec, options.labelSmooth);
  const C = spec.numClasses;
  return tf.tidy(() => {
    const corners = gtCorners(gt);
    const parts = { xy: [] as tf.Tensor[], wh: [] as tf.Tensor[], obj: [] as tf.Tensor[], cls: [] as tf.Tensor[] };
    outputs.forEach((output, s) => {
      const t = targets[s];
      const shape = [gt.batch, t.height, t.width, t.anchors];
      const raw = tf.reshape(output, [...shape, 5 + C]);
      const [px, py, pw, ph, po, pc] = tf.split(raw, [1, 1, 1, 1, 1, C], 4);
      const at = (data: Float32Array) => tf.tensor(data, [...shape, 1]);
      const positive = at(t.positive);
      const weight = at(t.weight);
      const boxScale = at(t.boxScale);
      parts.xy.push(tf.sum(tf.mul(boxScale, tf.add(bceWithLogits(px, at(t.tx)), bceWithLogits(py, at(t.ty))))));
      parts.wh.push(tf.sum(tf.mul(boxScale, tf.add(tf.abs(tf.sub(pw, at(t.tw))), tf.abs(tf.sub(ph, at(t.th)))))));
      const anchors = spec.anchorMasks[s].map((a) => spec.anchors[a]);
      const ignored = tf.expandDims(ignoreMask(raw, corners, anchors, options.inputSize, options.ignoreThresh), 4);
      const negative = tf.mul(tf.sub(1, positive), tf.sub(1, ignored));
      parts.obj.push(tf.add(
        tf.sum(tf.mul(weight, bceWithLogits(po, 1))),
        tf.sum(tf.mul(negative, bceWithLogits(po, 0))),
      ));
      parts.cls.push(tf.sum(tf.mul(weight, bceWithLogits(pc, tf.tensor(t.tcls, [...shape, C])))));
    });
    const mean = (xs: tf.Tensor[]) => tf.div(tf.addN(xs), gt.batch) as tf.Scalar;
    const xy = mean(parts.xy);
    const wh = mean(parts.wh);
    const obj = mean(parts.obj);
    const cls = mean(parts.cls);
    return { total: tf.addN([xy, wh, obj, cls]) as tf.Scalar, xy, wh, obj, cls };
  });
}
