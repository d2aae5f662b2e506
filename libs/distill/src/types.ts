import type * as tf from '@tensorflow/tfjs-core';

/** What every distillation loss returns: the scalar to minimise and named scalars to log. */
export interface DistillLossResult {
  total: tf.Scalar;
  /** For logging only: already weighted, they sum to `total` (not meant to be differentiated). */
  parts: Record<string, tf.Scalar>;
}
