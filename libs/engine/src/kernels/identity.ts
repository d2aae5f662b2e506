import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

interface RefCountingBackend { incRef(dataId: object): void }

/** `x` itself as a new tensor: one more reference to its buffer, no copy. */
function share(x: TensorInfo, backend: unknown): TensorInfo {
  (backend as RefCountingBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * Identity without the copy. The engine clones (Identity) every tensor an op saves for its
 * gradient, about a hundred per train step of a small convnet, and wasm's Identity copies each
 * one on the heap. Tensors are immutable here (no kernel writes into its inputs; a variable's
 * assign takes a new buffer), so the clone can share the buffer and count one more reference,
 * as wasm's own Reshape does and the cpu backend's Identity does. Strings keep the original.
 */
export function sharedIdentityConfig(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const x = args.inputs.x as TensorInfo;
    return x.dtype === 'string' ? original.kernelFunc(args) : share(x, args.backend);
  };
  return { kernelName: 'Identity', backendName: 'wasm', kernelFunc };
}
