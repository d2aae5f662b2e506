import { slice_util, util, type KernelConfig, type KernelFunc, type SliceAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { HeapBackend } from './heap_backend.ts';

/**
 * Slice for float32/int32/bool that copies only the slice. wasm's own Slice first copies
 * the WHOLE input out of the heap (readSync) for every call, so k slices of one tensor
 * cost k full copies; our composed gradients slice the same tensor 9-25 times.
 */
export function sliceConfig(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { begin, size } = args.attrs as unknown as SliceAttrs;
    if (x.dtype === 'string' || x.shape.length > 4) return original.kernelFunc(args);
    const backend = args.backend as unknown as HeapBackend;
    const [begin_, size_] = slice_util.parseSliceParams(x as never, begin, size);
    // Allocate first: a heap growth would detach views taken before it.
    const out = backend.makeOutput(size_, x.dtype);
    const src = backend.typedArrayFromHeap(x);
    const dst = backend.typedArrayFromHeap(out);
    const shape = [...new Array(4 - x.shape.length).fill(1), ...x.shape];
    const b = [...new Array(4 - x.shape.length).fill(0), ...begin_];
    const s = [...new Array(4 - x.shape.length).fill(1), ...size_];
    const strides = util.computeStrides(shape);
    let o = 0;
    for (let i = b[0]; i < b[0] + s[0]; i++) {
      for (let j = b[1]; j < b[1] + s[1]; j++) {
        for (let k = b[2]; k < b[2] + s[2]; k++) {
          const from = i * strides[0] + j * strides[1] + k * strides[2] + b[3];
          dst.set(src.subarray(from, from + s[3]), o);
          o += s[3];
        }
      }
    }
    return out;
  };
  return { kernelName: 'Slice', backendName: 'wasm', kernelFunc };
}
