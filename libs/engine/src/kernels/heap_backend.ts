import type { TensorInfo } from '@tensorflow/tfjs-core';

/**
 * The part of the wasm backend that copy kernels (Slice, PadV2) use: outputs allocated on
 * the heap and typed-array views of it. Allocate before taking views: a heap growth
 * detaches views taken earlier.
 */
export interface HeapBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}
