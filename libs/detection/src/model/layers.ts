import * as tf from '@tensorflow/tfjs-core';
import { batchNormTrain } from '@kd/engine';
import type { ParamStore } from './params.ts';

export type Activation = 'relu' | 'leaky' | 'none';

/** PaddleDetection's BN: moving = 0.9 * moving + 0.1 * batch, epsilon 1e-5. */
const BN_MOMENTUM = 0.9;
const BN_EPSILON = 1e-5;
/** YOLOv3's leaky ReLU. */
const LEAKY_SLOPE = 0.1;

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
    if (!ctx.training) return foldedConvBn(x, w, { gamma, beta, mean, variance }, stride, depthwise, act);
    const conv = depthwise ? tf.depthwiseConv2d(x, w, stride, 'same') : tf.conv2d(x, w, stride, 'same');
    // the activation goes into batch norm's kernels (one pass fewer each way on wasm)
    const bn = batchNormTrain(conv, gamma as tf.Tensor1D, beta as tf.Tensor1D, BN_EPSILON, negativeSlope[act]);
    // keep: the gradient tape disposes everything but the loss after the forward pass
    ctx.statUpdates.push({ mean, variance, batchMean: tf.keep(bn.mean), batchVariance: tf.keep(bn.variance) });
    return bn.y;
  };
}

/** Each activation as batchNormTrain's negative slope (undefined: none). */
const negativeSlope: Record<Activation, number | undefined> = { relu: 0, leaky: LEAKY_SLOPE, none: undefined };

const fusedActivation: Record<Activation, 'relu' | 'leakyrelu' | 'linear'> = { relu: 'relu', leaky: 'leakyrelu', none: 'linear' };

/**
 * Inference conv + BN + activation as one fused conv: BN with running statistics is a
 * per-channel scale and shift, so it folds into the filter (w * gamma / sqrt(var + eps)) and a
 * bias (beta - mean * that scale), and the backend applies bias and activation as it writes
 * the conv's output: one kernel and one pass over the activations where there were three.
 * Folding costs a pass over the filter only, so it is done per call (the weights of a model
 * being evaluated mid-training change between calls).
 */
function foldedConvBn(
  x: tf.Tensor4D, w: tf.Tensor4D, bn: { gamma: tf.Tensor; beta: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor },
  stride: number, depthwise: boolean, act: Activation,
): tf.Tensor4D {
  return tf.tidy(() => {
    const scale = tf.mul(bn.gamma, tf.rsqrt(tf.add(bn.variance, BN_EPSILON)));
    const bias = tf.sub(bn.beta, tf.mul(bn.mean, scale)) as tf.Tensor1D;
    // the output channel is the filter's last axis; a depthwise filter's ([k, k, C, 1]) is its third
    const filter = tf.mul(w, depthwise ? tf.reshape(scale, [1, 1, -1, 1]) : scale) as tf.Tensor4D;
    const fused = { x, filter, strides: stride, pad: 'same' as const, bias, activation: fusedActivation[act], leakyreluAlpha: LEAKY_SLOPE };
    return depthwise ? tf.fused.depthwiseConv2d(fused) : tf.fused.conv2d(fused);
  });
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
