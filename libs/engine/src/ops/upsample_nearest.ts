import * as tf from '@tensorflow/tfjs-core';

/**
 * Nearest-neighbour 2x upsampling of NHWC ([N,H,W,C] -> [N,2H,2W,C]), as the YOLOv3 head
 * does between scales. Its gradient sums each 2x2 block, done as 4 * avgPool (one fast
 * XNNPACK pass) instead of ResizeNearestNeighborGrad's scalar loop.
 */
export const upsampleNearest2x = tf.customGrad((x) => {
  const input = x as tf.Tensor4D;
  return {
    value: tf.image.resizeNearestNeighbor(input, [input.shape[1] * 2, input.shape[2] * 2]),
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.mul(tf.avgPool(dy as tf.Tensor4D, 2, 2, 'valid'), 4),
  };
}) as (x: tf.Tensor4D) => tf.Tensor4D;
