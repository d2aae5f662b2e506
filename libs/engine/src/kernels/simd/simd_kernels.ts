// Our WebAssembly SIMD kernels, run on the tfjs wasm backend's own memory: each module imports
// the backend's WebAssembly.Memory, so a kernel reads its inputs and writes its output where
// the backend keeps tensors, with no copies. Compiled once (synchronously: the modules are
// small), instantiated once per backend memory.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { WASM_BASE64 as DEPTHWISE_GRADIENTS } from './depthwise_gradients.wasm.ts';
import { WASM_BASE64 as CONV_FILTER_GRAD } from './conv_filter_grad.wasm.ts';
import { WASM_BASE64 as ACTIVATION_GRAD } from './activation_grad.wasm.ts';
import { WASM_BASE64 as MOMENTUM_UPDATE } from './momentum_update.wasm.ts';
import { WASM_BASE64 as BATCH_NORM } from './batch_norm.wasm.ts';

/** The parts of tfjs-backend-wasm's backend these kernels use. */
interface WasmBackendInternals {
  wasm?: { asm?: { memory?: WebAssembly.Memory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  disposeData(dataId: object): boolean;
}

/** The .wat files' functions: byte offsets of tensors, then the geometry, as there. */
export interface SimdExports {
  activationGrad(x: number, dy: number, dx: number, n: number, alpha: number): void;
  momentumUpdate(w: number, v: number, g: number, wOut: number, vOut: number, n: number, mu: number, decay: number, lr: number): void;
  channelMoments(x: number, P: number, C: number, mean: number, variance: number, row: number): void;
  normalize(x: number, P: number, C: number, mean: number, invStd: number, gamma: number, beta: number, xhat: number, y: number, act: number, slope: number): void;
  backwardSums(dy: number, xhat: number, P: number, C: number, dBeta: number, dGamma: number, rowB: number, rowG: number, act: number, y: number, slope: number): void;
  backwardApply(dy: number, xhat: number, P: number, C: number, scale: number, meanDy: number, meanDyXhat: number, dx: number, act: number, y: number, slope: number): void;
  convFilterGrad(
    x: number, dy: number, dw: number, N: number, H: number, W: number, Ci: number, OH: number, OW: number, Co: number,
    KH: number, KW: number, sH: number, sW: number, padT: number, padL: number,
  ): void;
  depthwiseFilterGrad(
    x: number, dy: number, dw: number, row: number, N: number, H: number, W: number, C: number, OH: number, OW: number,
    KH: number, KW: number, sH: number, sW: number, dH: number, dW: number, padT: number, padL: number,
  ): void;
  depthwiseInputGrad(
    dy: number, w: number, dx: number, N: number, H: number, W: number, C: number, OH: number, OW: number,
    KH: number, KW: number, sH: number, sW: number, dH: number, dW: number, padT: number, padL: number,
  ): void;
}

let compiled: WebAssembly.Module[] | null | undefined;
const instances = new WeakMap<WebAssembly.Memory, SimdExports>();

/** The kernels on `backend`'s memory; undefined where WebAssembly SIMD or the memory is not available. */
export function simdKernels(backend: unknown): SimdExports | undefined {
  const memory = (backend as WasmBackendInternals).wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return undefined;
  if (compiled === undefined) {
    const modules = [DEPTHWISE_GRADIENTS, CONV_FILTER_GRAD, ACTIVATION_GRAD, MOMENTUM_UPDATE, BATCH_NORM].map((base64) => Buffer.from(base64, 'base64'));
    compiled = modules.every((bytes) => WebAssembly.validate(bytes)) ? modules.map((bytes) => new WebAssembly.Module(bytes)) : null;
  }
  if (compiled === null) return undefined;
  let exports = instances.get(memory);
  if (!exports) {
    const all = compiled.map((module) => new WebAssembly.Instance(module, { env: { memory } }).exports);
    exports = Object.assign({}, ...all) as SimdExports;
    instances.set(memory, exports);
  }
  return exports;
}

/** Byte offset of a tensor's data in the backend's memory. */
export function heapOffset(backend: unknown, t: TensorInfo): number {
  const data = (backend as WasmBackendInternals).dataIdMap.get(t.dataId);
  if (!data) throw new Error('tensor is not on the wasm backend');
  return data.memoryOffset;
}

/** A tensor's float32 values where the backend keeps them (a view: valid until the heap grows). */
export function heapFloats(backend: unknown, t: TensorInfo): Float32Array {
  const memory = (backend as WasmBackendInternals).wasm?.asm?.memory;
  if (!memory) throw new Error('not the wasm backend');
  return new Float32Array(memory.buffer, heapOffset(backend, t), t.shape.reduce((a, b) => a * b, 1));
}

/** A float32 output (or scratch) tensor on the backend. */
export function heapTensor(backend: unknown, shape: number[]): TensorInfo {
  return (backend as WasmBackendInternals).makeOutput(shape, 'float32');
}

export function disposeHeapTensor(backend: unknown, t: TensorInfo): void {
  (backend as WasmBackendInternals).disposeData(t.dataId);
}
