import * as tf from '@tensorflow/tfjs-core';
import { BATCH_NORM_BACKWARD, BATCH_NORM_FORWARD, CHANNEL_MOMENTS, fusedBatchNormApplies } from '../kernels/batch_norm.ts';

export interface BatchNormTrainResult {
  /** Normalised, scaled and shifted x, same shape. */
  y: tf.Tensor4D;
  /** Batch mean over N,H,W: [C] (for running statistics; not differentiated). */
  mean: tf.Tensor1D;
  /** Biased batch variance over N,H,W: [C]. */
  variance: tf.Tensor1D;
}

/**
 * Training-mode batch norm of an NHWC tensor with a fused gradient:
 *   dx = gamma * invStd * (dy - mean(dy) - xhat * mean(dy * xhat)),
 * two channel reductions instead of tfjs' autodiff through moments (a dozen kernels).
 * On wasm with channels in fours, our kernels (kernels/batch_norm.ts): two passes over x for
 * the moments, one for x-hat and y, two over dy for the gradient.
 */
export function batchNormTrain(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon = 1e-5): BatchNormTrainResult {
  return fusedBatchNormApplies(x) ? fusedBatchNormTrain(x, gamma, beta, epsilon) : composedBatchNormTrain(x, gamma, beta, epsilon);
}

function fusedBatchNormTrain(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): BatchNormTrainResult {
  const [mean, variance] = tf.engine().runKernel(CHANNEL_MOMENTS, { x }, {}) as tf.Tensor1D[];
  const invStd = tf.rsqrt(tf.add(variance, epsilon));
  const normalize = tf.customGrad((xIn, g, b, saveArg) => {
    const save = saveArg as unknown as tf.GradSaveFunc;
    const [xhat, y] = tf.engine().runKernel(BATCH_NORM_FORWARD, { x: xIn as tf.Tensor, mean, invStd, gamma: g as tf.Tensor, beta: b as tf.Tensor }, {}) as tf.Tensor[];
    save([xhat, g as tf.Tensor, invStd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [savedXhat, savedGamma, savedInvStd] = saved;
        return tf.engine().runKernel(BATCH_NORM_BACKWARD, { dy: dy as tf.Tensor, xhat: savedXhat, gamma: savedGamma, invStd: savedInvStd }, {}) as tf.Tensor[];
      },
    };
  });
  return { y: normalize(x, gamma, beta) as tf.Tensor4D, mean, variance };
}

function composedBatchNormTrain(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): BatchNormTrainResult {
  const axes = [0, 1, 2];
  const { mean, variance } = tf.moments(x, axes);
  const invStd = tf.rsqrt(tf.add(variance, epsilon));
  const count = x.shape[0] * x.shape[1] * x.shape[2];
  const normalize = tf.customGrad((xIn, g, b, saveArg) => {
    const save = saveArg as unknown as tf.GradSaveFunc;
    const xhat = tf.mul(tf.sub(xIn as tf.Tensor, mean), invStd);
    // gradFunc may use only saved tensors: tf.grads disposes the forward pass' others.
    save([xhat, g as tf.Tensor, invStd]);
    return {
      value: tf.add(tf.mul(xhat, g as tf.Tensor), b as tf.Tensor),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const dyT = dy as tf.Tensor;
        const [savedXhat, savedGamma, savedInvStd] = saved;
        const dBeta = tf.sum(dyT, axes);
        const dGamma = tf.sum(tf.mul(dyT, savedXhat), axes);
        const centred = tf.sub(tf.sub(dyT, tf.div(dBeta, count)), tf.mul(savedXhat, tf.div(dGamma, count)));
        return [tf.mul(tf.mul(savedGamma, savedInvStd), centred), dGamma, dBeta];
      },
    };
  });
  return { y: normalize(x, gamma, beta) as tf.Tensor4D, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}
