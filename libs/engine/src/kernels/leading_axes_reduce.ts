import { util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { KernelOps } from './kernel_ops.ts';

/**
 * Sum/Mean over leading axes ([0..k-1], as in bias and BatchNorm gradients) as a
 * global average pool (KernelOps.sumRows); wasm's own kernels transpose the reduced axes
 * innermost first. Any other reduction goes to the backend's original kernel.
 */
export function leadingAxesReduceConfig(original: KernelConfig, kind: 'Sum' | 'Mean'): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const axes = util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((a, i) => a === i);
    if (!leading || x.dtype !== 'float32') return original.kernelFunc(args);
    const rows = util.sizeFromShape(x.shape.slice(0, axes.length));
    const rest = x.shape.slice(axes.length);
    const ops = KernelOps.of(args.backend, 'wasm');
    const summed = ops.sumRows(ops.reshape(x, [rows, util.sizeFromShape(rest)]), kind === 'Mean' ? 1 / rows : 1);
    const outShape = keepDims ? [...axes.map(() => 1), ...rest] : rest;
    return ops.finish(ops.reshape(summed, outShape));
  };
  // The original's setupFunc binds its wasm function when the backend initialises.
  return { kernelName: kind, backendName: 'wasm', kernelFunc, setupFunc: original.setupFunc };
}
