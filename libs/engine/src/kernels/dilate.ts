import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { KernelOps } from './kernel_ops.ts';

/**
 * Inserts sH-1 zero rows after every row and sW-1 zero columns after every column of an
 * NHWC tensor ([N,H,W,C] -> [N,H*sH,W*sW,C]) with a reshape and one pad, no scatter.
 */
export function dilateSpatial(ops: KernelOps, x: TensorInfo, sH: number, sW: number): TensorInfo {
  if (sH === 1 && sW === 1) return x;
  const [n, h, w, c] = x.shape;
  const spread = ops.pad(ops.reshape(x, [n, h, 1, w, 1, c]), [[0, 0], [0, 0], [0, sH - 1], [0, 0], [0, sW - 1], [0, 0]]);
  return ops.reshape(spread, [n, h * sH, w * sW, c]);
}
