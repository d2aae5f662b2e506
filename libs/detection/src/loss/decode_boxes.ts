import * as tf from '@tensorflow/tfjs-core';

/**
 * Decodes one scale's raw box channels to normalised centre boxes (no +1):
 * bx = (j + sig(tx)) / W, by = (i + sig(ty)) / H, bw = exp(tw) * aw / input, bh likewise.
 * xy, wh: [N, H, W, A, 2]; anchors in input pixels. Returns [N, H, W, A, 4] (cx, cy, w, h).
 */
export function decodeBoxes(xy: tf.Tensor, wh: tf.Tensor, anchors: Array<[number, number]>, inputSize: number): tf.Tensor {
  return tf.tidy(() => {
    const [, H, W, A] = xy.shape;
    const grid = new Float32Array(H * W * A * 2);
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        for (let a = 0; a < A; a++) {
          const o = ((i * W + j) * A + a) * 2;
          grid[o] = j;
          grid[o + 1] = i;
        }
      }
    }
    const scale = tf.tensor([W, H]);
    const centre = tf.div(tf.add(tf.sigmoid(xy), tf.tensor(grid, [1, H, W, A, 2])), scale);
    const anchorWh = tf.div(tf.tensor(anchors.flat(), [1, 1, 1, A, 2]), inputSize);
    const size = tf.mul(tf.exp(wh), anchorWh);
    return tf.concat([centre, size], 4);
  });
}
