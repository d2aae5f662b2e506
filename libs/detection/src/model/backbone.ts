import type * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext } from './layers.ts';

/** A backbone: image [N,H,W,3] -> feature maps at strides 32, 16, 8 (coarsest first). */
export interface Backbone {
  /** Channels of the three maps, coarsest first. */
  outChannels: [number, number, number];
  forward(x: tf.Tensor4D, ctx: ForwardContext): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
}
