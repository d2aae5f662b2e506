import * as tf from '@tensorflow/tfjs-core';
import { BATCH_NORM_BACKWARD, BATCH_NORM_FORWARD, CHANNEL_MOMENTS, fusedBatchNormApplies } from '../kernels/batch_norm.ts';

export interface BatchNormTrainResult {
  /** Normalised, scaled and shifted x, same shape (after the activation, when one was given). */
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
 * `negativeSlope` adds the activation that follows (0: ReLU, 0.1: YOLOv3's leaky ReLU).
 * On wasm with channels in fours, our kernels (kernels/batch_norm.ts): two passes over x for
 * the moments, one for x-hat and y (activation included), two over dy for the gradient (back
 * through the activation included); elsewhere tfjs ops, the activation after.
 */
export function batchNormTrain(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon = 1e-5, negativeSlope?: number): BatchNormTrainResult {
  if (fusedBatchNormApplies(x)) return fusedBatchNormTrain(x, gamma, beta, epsilon, negativeSlope);
  const bn = composedBatchNormTrain(x, gamma, beta, epsilon);
  if (negativeSlope === undefined) return bn;
  return { ...bn, y: negativeSlope === 0 ? tf.relu(bn.y) : tf.leakyRelu(bn.y, negativeSlope) };
}

function fusedBatchNormTrain(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number, negativeSlope: number | undefined): BatchNormTrainResult {
  const attrs: tf.NamedAttrMap = negativeSlope === undefined ? {} : { negativeSlope };
  const [mean, variance] = tf.engine().runKernel(CHANNEL_MOMENTS, { x }, {}) as tf.Tensor1D[];
  const invStd = tf.rsqrt(tf.add(variance, epsilon));
  const normalize = tf.customGrad((xIn, g, b, saveArg) => {
    const save = saveArg as unknown as tf.GradSaveFunc;
    const [xhat, y] = tf.engine().runKernel(BATCH_NORM_FORWARD, { x: xIn as tf.Tensor, mean, invStd, gamma: g as tf.Tensor, beta: b as tf.Tensor }, attrs) as tf.Tensor[];
    // the output too: the gradient takes dy back through the activation by its sign
    save([xhat, g as tf.Tensor, invStd, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [savedXhat, savedGamma, savedInvStd, savedY] = saved;
        const inputs = { dy: dy as tf.Tensor, xhat: savedXhat, gamma: savedGamma, invStd: savedInvStd, y: savedY };
        return tf.engine().runKernel(BATCH_NORM_BACKWARD, inputs, attrs) as tf.Tensor[];
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
