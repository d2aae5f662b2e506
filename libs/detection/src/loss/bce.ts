import * as tf from '@tensorflow/tfjs-core';

/** Elementwise BCE with logits and soft targets: max(z,0) - z*q + log(1 + exp(-|z|)). */
export function bceWithLogits(z: tf.Tensor, q: tf.Tensor | number): tf.Tensor {
  return tf.add(tf.sub(tf.relu(z), tf.mul(z, q)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
}
