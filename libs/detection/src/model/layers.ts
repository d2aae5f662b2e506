import * as tf from '@tensorflow/tfjs-core';
import { batchNormTrain } from '@kd/engine';
import type { ParamStore } from './params.ts';

export type Activation = 'relu' | 'leaky' | 'none';

/** PaddleDetection's BN: moving = 0.9 * moving + 0.1 * batch, epsilon 1e-5. */
const BN_MOMENTUM = 0.9;
const BN_EPSILON = 1e-5;

/**
 * Forward-pass mode. In training, BN uses batch statistics and queues running-statistic
 * updates (applied after the optimizer step, outside the gradient tape).
 */
export interface ForwardContext {
  training: boolean;
  statUpdates: Array<{ mean: tf.Variable; variance: tf.Variable; batchMean: tf.Tensor; batchVariance: tf.Tensor }>;
}

export function inferenceContext(): ForwardContext {
  return { training: false, statUpdates: [] };
}

/** Applies and disposes the queued running-statistic updates of a training forward pass. */
export function applyStatUpdates(ctx: ForwardContext): void {
  tf.tidy(() => {
    for (const u of ctx.statUpdates) {
      u.mean.assign(tf.add(tf.mul(u.mean, BN_MOMENTUM), tf.mul(u.batchMean, 1 - BN_MOMENTUM)));
      u.variance.assign(tf.add(tf.mul(u.variance, BN_MOMENTUM), tf.mul(u.batchVariance, 1 - BN_MOMENTUM)));
    }
  });
  for (const u of ctx.statUpdates) tf.dispose([u.batchMean, u.batchVariance]);
  ctx.statUpdates.length = 0;
}

export interface ConvSpec {
  out: number;
  kernel: number;
  stride?: number;
  act: Activation;
  /** Depthwise: `out` must equal the input channels. */
  depthwise?: boolean;
}

/** A conv + BN + activation block: creates its parameters once and returns its forward function. */
export function convBn(store: ParamStore, name: string, inChannels: number, spec: ConvSpec) {
  const { out, kernel, stride = 1, act, depthwise = false } = spec;
  const weight = depthwise
    ? store.convWeight(`${name}.weight`, [kernel, kernel, inChannels, 1], kernel * kernel)
    : store.convWeight(`${name}.weight`, [kernel, kernel, inChannels, out], kernel * kernel * inChannels);
  const gamma = store.vector(`${name}.bn.scale`, out, 1);
  const beta = store.vector(`${name}.bn.offset`, out, 0);
  const mean = store.statistic(`${name}.bn.mean`, out, 0);
  const variance = store.statistic(`${name}.bn.variance`, out, 1);
  return (x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D => {
    const w = weight as tf.Tensor4D;
    const conv = depthwise ? tf.depthwiseConv2d(x, w, stride, 'same') : tf.conv2d(x, w, stride, 'same');
    let y: tf.Tensor4D;
    if (ctx.training) {
      const bn = batchNormTrain(conv, gamma as tf.Tensor1D, beta as tf.Tensor1D, BN_EPSILON);
      // keep: the gradient tape disposes everything but the loss after the forward pass
      ctx.statUpdates.push({ mean, variance, batchMean: tf.keep(bn.mean), batchVariance: tf.keep(bn.variance) });
      y = bn.y;
    } else {
      y = tf.batchNorm4d(conv, mean as tf.Tensor1D, variance as tf.Tensor1D, beta as tf.Tensor1D, gamma as tf.Tensor1D, BN_EPSILON);
    }
    if (act === 'relu') return tf.relu(y);
    if (act === 'leaky') return tf.leakyRelu(y, 0.1);
    return y;
  };
}

/** A plain conv with bias and no BN (the YOLO output convs); `biasInit` per channel, default 0. */
export function convBias(store: ParamStore, name: string, inChannels: number, out: number, biasInit?: Float32Array) {
  const weight = store.convWeight(`${name}.weight`, [1, 1, inChannels, out], inChannels);
  const bias = biasInit ? store.vectorOf(`${name}.bias`, biasInit) : store.vector(`${name}.bias`, out, 0);
  return (x: tf.Tensor4D): tf.Tensor4D => tf.add(tf.conv2d(x, weight as tf.Tensor4D, 1, 'same'), bias);
}

/** Channel count after a width multiplier: at least 8, rounded to a multiple of 8 (below 64, of 4). */
export function scaleChannels(channels: number, width: number): number {
  const c = channels * width;
  const step = c < 64 ? 4 : 8;
  return Math.max(8, Math.round(c / step) * step);
}
