import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { heapOffset, heapTensor, simdKernels } from './simd/simd_kernels.ts';

/** Our kernel: [w', v'] of a momentum step with L2 decay, one pass (simd/momentum_update.wat). */
export const MOMENTUM_UPDATE = 'KdMomentumUpdate';

export interface MomentumStep { momentum: number; decay: number; lr: number }

const momentumUpdateKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { w, v, g } = inputs as { w: TensorInfo; v: TensorInfo; g: TensorInfo };
  const { momentum, decay, lr } = attrs as unknown as MomentumStep;
  const simd = simdKernels(backend);
  if (!simd) throw new Error(`${MOMENTUM_UPDATE} needs WebAssembly SIMD`);
  const wOut = heapTensor(backend, [...w.shape]);
  const vOut = heapTensor(backend, [...w.shape]);
  const n = w.shape.reduce((a, b) => a * b, 1);
  if (n > 0) {
    simd.momentumUpdate(heapOffset(backend, w), heapOffset(backend, v), heapOffset(backend, g),
      heapOffset(backend, wOut), heapOffset(backend, vOut), n, momentum, decay, lr);
  }
  return [wOut, vOut];
};

export const momentumUpdateConfig: KernelConfig = { kernelName: MOMENTUM_UPDATE, backendName: 'wasm', kernelFunc: momentumUpdateKernel };

/**
 * v' = v * momentum + (g + w * decay), w' = w - v' * lr, as one kernel where the backend has it
 * (wasm with SIMD); undefined elsewhere, where the caller composes it.
 */
export function fusedMomentumUpdate(w: tf.Tensor, v: tf.Tensor, g: tf.Tensor, step: MomentumStep): { w: tf.Tensor; v: tf.Tensor } | undefined {
  if (w.dtype !== 'float32' || tf.getKernel(MOMENTUM_UPDATE, tf.getBackend()) == null || simdKernels(tf.backend()) == null) return undefined;
  const [wOut, vOut] = tf.engine().runKernel(MOMENTUM_UPDATE, { w, v, g }, step as unknown as NamedAttrMap) as tf.Tensor[];
  return { w: wOut, v: vOut };
}
