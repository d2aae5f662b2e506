import * as tf from '@tensorflow/tfjs-core';

/**
 * The engine benchmark's fixed model, kept identical to the one other frameworks were timed
 * on: conv3x3/2 -> 16 + ReLU, nine depthwise-separable blocks (dw3x3 + ReLU, 1x1 + ReLU)
 * with (outChannels, stride) below, then a 1x1 conv to 75 channels. NHWC.
 */
export const separableBlocks: ReadonlyArray<readonly [number, number]> = [
  [32, 1], [64, 2], [64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [256, 1], [512, 2],
];

export interface BenchmarkModel {
  variables: tf.Variable[];
  /** [N,H,W,3] -> [N,H/32,W/32,75] */
  forward(x: tf.Tensor4D): tf.Tensor4D;
}

/** He-normal-ish weights from a seeded generator so every run starts from the same model. */
export function createBenchmarkModel(seed = 1): BenchmarkModel {
  let nextSeed = seed;
  const weight = (shape: number[], fanIn: number): tf.Variable =>
    tf.variable(tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', nextSeed++));
  const stem = weight([3, 3, 3, 16], 27);
  const stemBias = tf.variable(tf.zeros([16]));
  const blocks: Array<{ dw: tf.Variable; dwBias: tf.Variable; pw: tf.Variable; pwBias: tf.Variable; stride: number }> = [];
  let channels = 16;
  for (const [out, stride] of separableBlocks) {
    blocks.push({
      dw: weight([3, 3, channels, 1], 9),
      dwBias: tf.variable(tf.zeros([channels])),
      pw: weight([1, 1, channels, out], channels),
      pwBias: tf.variable(tf.zeros([out])),
      stride,
    });
    channels = out;
  }
  const head = weight([1, 1, channels, 75], channels);
  const headBias = tf.variable(tf.zeros([75]));
  const variables = [stem, stemBias, ...blocks.flatMap((b) => [b.dw, b.dwBias, b.pw, b.pwBias]), head, headBias];

  const forward = (x: tf.Tensor4D): tf.Tensor4D => {
    let h = tf.relu(tf.add(tf.conv2d(x, stem as tf.Tensor4D, 2, 'same'), stemBias)) as tf.Tensor4D;
    for (const b of blocks) {
      h = tf.relu(tf.add(tf.depthwiseConv2d(h, b.dw as tf.Tensor4D, b.stride, 'same'), b.dwBias)) as tf.Tensor4D;
      h = tf.relu(tf.add(tf.conv2d(h, b.pw as tf.Tensor4D, 1, 'same'), b.pwBias)) as tf.Tensor4D;
    }
    return tf.add(tf.conv2d(h, head as tf.Tensor4D, 1, 'same'), headBias) as tf.Tensor4D;
  };
  return { variables, forward };
}
