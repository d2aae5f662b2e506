import * as tf from '@tensorflow/tfjs-core';
import { centreToCorners, decodeBoxes } from './decode_boxes.ts';

/**
 * 1 where a prediction's decoded box overlaps some GT of its image with IoU > ignoreThresh
 * (those non-positives get no objectness loss). No gradient flows through it: the forward
 * runs as one custom op whose gradient is zero.
 * raw: [N, H, W, A, 5+C]; gtCorners: [N, B, 4] normalised (x1, y1, x2, y2), padding all 0.
 * Returns [N, H, W, A].
 */
export function ignoreMask(
  raw: tf.Tensor, gtCorners: tf.Tensor3D, anchors: Array<[number, number]>, inputSize: number, ignoreThresh: number,
): tf.Tensor {
  const op = tf.customGrad((x) => {
    const input = x as tf.Tensor;
    const [N, H, W, A] = input.shape;
    const value = tf.tidy(() => {
      const xy = tf.slice(input, [0, 0, 0, 0, 0], [-1, -1, -1, -1, 2]);
      const wh = tf.slice(input, [0, 0, 0, 0, 2], [-1, -1, -1, -1, 2]);
      const pred = tf.reshape(centreToCorners(decodeBoxes(xy, wh, anchors, inputSize)), [N, H * W * A, 1, 4]);
      const gt = tf.expandDims(gtCorners, 1); // [N, 1, B, 4]
      const [px1, py1, px2, py2] = tf.split(pred, 4, -1);
      const [gx1, gy1, gx2, gy2] = tf.split(gt, 4, -1);
      const iw = tf.relu(tf.sub(tf.minimum(px2, gx2), tf.maximum(px1, gx1)));
      const ih = tf.relu(tf.sub(tf.minimum(py2, gy2), tf.maximum(py1, gy1)));
      const inter = tf.mul(iw, ih);
      const areaP = tf.mul(tf.sub(px2, px1), tf.sub(py2, py1));
      const areaG = tf.mul(tf.sub(gx2, gx1), tf.sub(gy2, gy1));
      const iou = tf.div(inter, tf.maximum(tf.sub(tf.add(areaP, areaG), inter), 1e-10));
      const best = tf.max(iou, [2, 3]); // [N, HWA]
      return tf.reshape(tf.cast(tf.greater(best, ignoreThresh), 'float32'), [N, H, W, A]);
    });
    return { value, gradFunc: () => tf.zerosLike(input) };
  });
  return op(raw);
}
