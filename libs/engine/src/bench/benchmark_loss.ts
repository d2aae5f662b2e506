import * as tf from '@tensorflow/tfjs-core';
import type { BenchmarkModel } from './benchmark_model.ts';

/** The benchmark's loss: mean(out^2), a stand-in that backpropagates through every layer. */
export const benchmarkLoss = (model: BenchmarkModel, x: tf.Tensor4D): tf.Scalar => tf.mean(tf.square(model.forward(x)));
