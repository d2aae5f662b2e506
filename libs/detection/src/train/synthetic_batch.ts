import * as tf from '@tensorflow/tfjs-core';
import type { TrainBatch } from '@kd/data';

/**
 * A seeded batch of `n` noise images (already normalised) with one box each, cycling through
 * `classes` classes: timing and equivalence checks need a batch, not a dataset.
 */
export function syntheticBatch(n: number, size: number, classes: number, seed: number): TrainBatch {
  const images = tf.tidy(() => tf.randomUniform([n * size * size * 3], -1, 2, 'float32', seed).dataSync() as Float32Array);
  const gtBox = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) gtBox.set([0.3 + 0.1 * (i % 4), 0.5, 0.2 + 0.05 * (i % 8), 0.3], i * 4);
  return {
    ids: Array.from({ length: n }, (_, i) => `img${i}`), size, maxBoxes: 1, images, gtBox,
    gtClass: Int32Array.from({ length: n }, (_, i) => i % classes), gtScore: new Float32Array(n).fill(1), labeled: new Uint8Array(n).fill(1),
  };
}
