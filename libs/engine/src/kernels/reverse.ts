import { util, type KernelConfig, type KernelFunc, type ReverseAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { HeapBackend } from './heap_backend.ts';

/**
 * Reverse that copies whole contiguous runs: everything inside the innermost reversed axis
 * moves as one block. wasm's Reverse computes every element's source index (about 16 ms for
 * a [3,3,256,256] filter here), and every conv gradient flips its filter on every step.
 */
export function reverseConfig(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { dims } = args.attrs as unknown as ReverseAttrs;
    if (x.dtype === 'string' || x.dtype === 'complex64' || x.shape.length === 0) return original.kernelFunc(args);
    const backend = args.backend as unknown as HeapBackend;
    const rank = x.shape.length;
    const reversed = new Array<boolean>(rank).fill(false);
    for (const axis of util.parseAxisParam(dims, x.shape)) reversed[axis] = true;
    // Allocate first: a heap growth would detach views taken before it.
    const out = backend.makeOutput(x.shape, x.dtype);
    const src = backend.typedArrayFromHeap(x);
    const dst = backend.typedArrayFromHeap(out);
    const innermost = reversed.lastIndexOf(true);
    if (innermost < 0) {
      dst.set(src);
      return out;
    }
    const strides = [...util.computeStrides(x.shape), 1];
    const run = strides[innermost]; // elements inside the innermost reversed axis
    const outer = x.shape.slice(0, innermost + 1);
    const index = new Array<number>(outer.length).fill(0);
    for (let to = 0; to < dst.length; to += run) {
      let from = 0;
      for (let a = 0; a < outer.length; a++) {
        from += (reversed[a] ? outer[a] - 1 - index[a] : index[a]) * strides[a];
      }
      if (run === 1) dst[to] = src[from];
      else dst.set(src.subarray(from, from + run), to);
      // odometer over the outer axes, last fastest
      for (let a = outer.length - 1; a >= 0 && ++index[a] === outer[a]; a--) index[a] = 0;
    }
    return out;
  };
  return { kernelName: 'Reverse', backendName: 'wasm', kernelFunc };
}
