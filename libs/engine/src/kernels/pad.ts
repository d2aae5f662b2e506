import { util, type KernelConfig, type KernelFunc, type PadV2Attrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { HeapBackend } from './heap_backend.ts';

/**
 * Constant padding that fills the output once and copies x in contiguous runs.
 * wasm's PadV2 goes element by element (about 5 ms for an [8,160,160,3] image batch
 * here), and our composed gradients pad on every call.
 */
export function padConfig(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { paddings, constantValue } = args.attrs as unknown as PadV2Attrs;
    if (x.dtype === 'string' || x.dtype === 'complex64' || x.shape.length === 0) return original.kernelFunc(args);
    const backend = args.backend as unknown as HeapBackend;
    const outShape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
    // Allocate first: a heap growth would detach views taken before it.
    const out = backend.makeOutput(outShape, x.dtype);
    const src = backend.typedArrayFromHeap(x);
    const dst = backend.typedArrayFromHeap(out);
    dst.fill(constantValue);
    if (src.length === 0) return out;
    // Runs span the innermost padded axis and everything inside it (contiguous in x and out).
    const rank = x.shape.length;
    let inner = rank - 1;
    while (inner > 0 && paddings[inner][0] === 0 && paddings[inner][1] === 0) inner--;
    const outStrides = util.computeStrides(outShape);
    const stride = (a: number): number => (a === rank - 1 ? 1 : outStrides[a]);
    const run = util.sizeFromShape(x.shape.slice(inner));
    const runs = src.length / run;
    const index = new Array(inner).fill(0);
    for (let r = 0; r < runs; r++) {
      let at = paddings[inner][0] * stride(inner);
      for (let a = 0; a < inner; a++) at += (index[a] + paddings[a][0]) * stride(a);
      dst.set(src.subarray(r * run, (r + 1) * run), at);
      for (let a = inner - 1; a >= 0; a--) {
        if (++index[a] < x.shape[a]) break;
        index[a] = 0;
      }
    }
    return out;
  };
  return { kernelName: 'PadV2', backendName: 'wasm', kernelFunc };
}
