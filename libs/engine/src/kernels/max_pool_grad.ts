import { backend_util, type KernelConfig, type KernelFunc, type MaxPoolGradAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { HeapBackend } from './heap_backend.ts';

/**
 * MaxPoolGrad as a scatter: each output's dy goes to the first maximum of its window (row by
 * row, as the cpu backend picks it), all channels of a position at once (NHWC keeps them
 * adjacent). wasm's own kernel (tfjs 4.22) disagrees with the cpu backend for most pool
 * geometries, the ResNet stem's 3x3/2 'same' included (max_pool_grad.test.ts fails with it),
 * and was about twice as slow for the stem's [4,112,112,32] input here.
 */
export function maxPoolGradConfig(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
    if (input.dtype !== 'float32' || dy.dtype !== 'float32') return original.kernelFunc(args);
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as MaxPoolGradAttrs;
    const info = backend_util.computePool2DInfo(
      input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    const backend = args.backend as unknown as HeapBackend;
    // Allocate first: a heap growth would detach views taken before it.
    const out = backend.makeOutput(input.shape, 'float32');
    const x = backend.typedArrayFromHeap(input) as Float32Array;
    const g = backend.typedArrayFromHeap(dy) as Float32Array;
    const dx = backend.typedArrayFromHeap(out) as Float32Array;
    dx.fill(0);
    const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth, strideHeight, strideWidth } = info;
    const { filterHeight, filterWidth } = info;
    const { top, left } = info.padInfo;
    const best = new Float32Array(c);
    const at = new Int32Array(c);
    let o = 0; // offset of dy[b, yR, yC, 0]
    for (let b = 0; b < batchSize; b++) {
      const image = b * inHeight * inWidth * c;
      for (let yR = 0; yR < outHeight; yR++) {
        const r0 = Math.max(0, yR * strideHeight - top);
        const r1 = Math.min(inHeight, yR * strideHeight - top + filterHeight);
        for (let yC = 0; yC < outWidth; yC++, o += c) {
          const c0 = Math.max(0, yC * strideWidth - left);
          const c1 = Math.min(inWidth, yC * strideWidth - left + filterWidth);
          best.fill(Number.NEGATIVE_INFINITY);
          at.fill(-1);
          for (let r = r0; r < r1; r++) {
            for (let col = c0; col < c1; col++) {
              const p = image + (r * inWidth + col) * c;
              for (let d = 0; d < c; d++) {
                if (x[p + d] > best[d]) {
                  best[d] = x[p + d];
                  at[d] = p + d;
                }
              }
            }
          }
          for (let d = 0; d < c; d++) if (at[d] >= 0) dx[at[d]] += g[o + d];
        }
      }
    }
    return out;
  };
  return { kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc };
}
