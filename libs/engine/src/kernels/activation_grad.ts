import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { heapOffset, heapTensor, simdKernels } from './simd/simd_kernels.ts';

/** Our kernel: dx = x > 0 ? dy : alpha * dy, one pass (simd/activation_grad.wat). */
export const ACTIVATION_GRAD = 'KdActivationGrad';

const activationGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { alpha } = attrs as unknown as { alpha: number };
  const simd = simdKernels(backend);
  if (!simd) throw new Error(`${ACTIVATION_GRAD} needs WebAssembly SIMD`);
  const dx = heapTensor(backend, [...x.shape]);
  const n = x.shape.reduce((a, b) => a * b, 1);
  if (n > 0) simd.activationGrad(heapOffset(backend, x), heapOffset(backend, dy), heapOffset(backend, dx), n, alpha);
  return dx;
};

export const activationGradConfig: KernelConfig = { kernelName: ACTIVATION_GRAD, backendName: 'wasm', kernelFunc: activationGrad };

/**
 * ReLU's and leaky ReLU's gradients through our kernel where the backend has it and WebAssembly
 * SIMD runs; tfjs' own composition (its gradients, unchanged) everywhere else.
 */
function gradient(kernelName: 'Relu' | 'LeakyRelu', composed: (dy: tf.Tensor, x: tf.Tensor, alpha: number) => tf.Tensor): GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const alpha = kernelName === 'Relu' ? 0 : (attrs as unknown as { alpha: number }).alpha;
      const fused = x.dtype === 'float32' && tf.getKernel(ACTIVATION_GRAD, tf.getBackend()) != null && simdKernels(tf.backend()) != null;
      return {
        x: () => fused
          ? tf.engine().runKernel(ACTIVATION_GRAD, { x, dy: dy as tf.Tensor }, { alpha } as unknown as NamedAttrMap) as tf.Tensor
          : composed(dy as tf.Tensor, x, alpha),
      };
    },
  };
}

export const reluGradConfig = gradient('Relu', (dy, x) => tf.mul(dy, tf.cast(tf.step(x), 'float32')));
export const leakyReluGradConfig = gradient('LeakyRelu', (dy, x, alpha) => tf.where(tf.greater(x, 0), dy, tf.mul(dy, alpha)));
