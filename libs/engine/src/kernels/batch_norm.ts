import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { disposeHeapTensor, heapFloats, heapOffset, heapTensor, simdKernels } from './simd/simd_kernels.ts';

// Training-mode batch norm as three kernels of ours on wasm (simd/batch_norm.wat): the batch
// moments, the normalisation (x-hat and y, with the activation that follows, if any), and the
// gradient (back through that activation too). NHWC, channels in fours.
export const CHANNEL_MOMENTS = 'KdChannelMoments';
export const BATCH_NORM_FORWARD = 'KdBatchNormForward';
export const BATCH_NORM_BACKWARD = 'KdBatchNormBackward';

/** x as [positions, channels]. */
function matrix(x: TensorInfo): { P: number; C: number } {
  const C = x.shape[x.shape.length - 1];
  return { P: x.shape.reduce((a, b) => a * b, 1) / C, C };
}

function kernels(backend: unknown) {
  const simd = simdKernels(backend);
  if (!simd) throw new Error('our batch norm kernels need WebAssembly SIMD');
  return simd;
}

/** [mean, variance] over all but the channel axis (biased variance, two passes as tf.moments). */
const channelMoments: KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: TensorInfo };
  const { P, C } = matrix(x);
  const mean = heapTensor(backend, [C]);
  const variance = heapTensor(backend, [C]);
  const row = heapTensor(backend, [C]);
  kernels(backend).channelMoments(heapOffset(backend, x), P, C, heapOffset(backend, mean), heapOffset(backend, variance), heapOffset(backend, row));
  disposeHeapTensor(backend, row);
  return [mean, variance];
};

/**
 * The activation after batch norm: `negativeSlope` 0 is ReLU, 0.1 leaky ReLU as YOLOv3 has it;
 * absent, none.
 */
export interface BatchNormActivationAttrs { negativeSlope?: number }

const activationArgs = (attrs: unknown): [number, number] => {
  const slope = (attrs as BatchNormActivationAttrs | undefined)?.negativeSlope;
  return slope === undefined ? [0, 0] : [1, slope];
};

/** [xhat, y]: xhat = (x - mean) * invStd, y = xhat * gamma + beta, then the activation if any. */
const batchNormForward: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, mean, invStd, gamma, beta } = inputs as Record<string, TensorInfo>;
  const { P, C } = matrix(x);
  const xhat = heapTensor(backend, [...x.shape]);
  const y = heapTensor(backend, [...x.shape]);
  const at = (t: TensorInfo) => heapOffset(backend, t);
  kernels(backend).normalize(at(x), P, C, at(mean), at(invStd), at(gamma), at(beta), at(xhat), at(y), ...activationArgs(attrs));
  return [xhat, y];
};

/**
 * [dx, dGamma, dBeta]: with d = dy (or, after an activation, dy taken back through it by its
 * output y), dBeta = sum(d), dGamma = sum(d * xhat),
 * dx = gamma * invStd * ((d - dBeta / P) - xhat * (dGamma / P)), in the composed gradient's order.
 */
const batchNormBackward: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, xhat, gamma, invStd, y } = inputs as Record<string, TensorInfo>;
  const [act, slope] = activationArgs(attrs);
  const { P, C } = matrix(dy);
  const simd = kernels(backend);
  const at = (t: TensorInfo) => heapOffset(backend, t);
  const dBeta = heapTensor(backend, [C]);
  const dGamma = heapTensor(backend, [C]);
  const scratch = [heapTensor(backend, [C]), heapTensor(backend, [C]), heapTensor(backend, [C])];
  const yAt = act ? at(y) : 0;
  simd.backwardSums(at(dy), at(xhat), P, C, at(dBeta), at(dGamma), at(scratch[0]), at(scratch[1]), act, yAt, slope);
  // per channel, in float32 as tfjs' kernels would: scale, dBeta / P, dGamma / P
  const [scale, meanDy, meanDyXhat] = scratch;
  const views = [scale, meanDy, meanDyXhat, gamma, invStd, dBeta, dGamma].map((t) => heapFloats(backend, t));
  for (let c = 0; c < C; c++) {
    views[0][c] = Math.fround(views[3][c] * views[4][c]);
    views[1][c] = Math.fround(views[5][c] / P);
    views[2][c] = Math.fround(views[6][c] / P);
  }
  const dx = heapTensor(backend, [...dy.shape]);
  simd.backwardApply(at(dy), at(xhat), P, C, at(scale), at(meanDy), at(meanDyXhat), at(dx), act, yAt, slope);
  for (const t of scratch) disposeHeapTensor(backend, t);
  return [dx, dGamma, dBeta];
};

export const batchNormKernelConfigs: KernelConfig[] = [
  { kernelName: CHANNEL_MOMENTS, backendName: 'wasm', kernelFunc: channelMoments },
  { kernelName: BATCH_NORM_FORWARD, backendName: 'wasm', kernelFunc: batchNormForward },
  { kernelName: BATCH_NORM_BACKWARD, backendName: 'wasm', kernelFunc: batchNormBackward },
];

/** Whether batch norm of `x` runs on our kernels here: float32, channels in fours, wasm with SIMD. */
export function fusedBatchNormApplies(x: tf.Tensor): boolean {
  return x.dtype === 'float32' && x.shape[x.shape.length - 1] % 4 === 0
    && tf.getKernel(CHANNEL_MOMENTS, tf.getBackend()) != null && simdKernels(tf.backend()) != null;
}
