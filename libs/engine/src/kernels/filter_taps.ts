import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { KernelOps } from './kernel_ops.ts';
import { phasePadding, type ConvGeometry } from './conv_geometry.ts';

/**
 * The input window of every filter tap of a strided convolution, as one 3-D slice.
 *
 * x is padded and split into its stride phases once, [phases * rows, rb, cb * perPosition]
 * with rows = N (channel-last, perPosition = C) or C*N (channel-first, perPosition = 1).
 * Output (oh, ow) of tap (kh, kw) then reads block (oh + kh/sH, ow + kw/sW) of phase
 * (kh%sH, kw%sW), so a tap is [rows, oH, oW*perPosition] at a fixed offset: no strided
 * slices, which wasm lacks a fast path for.
 */
export interface FilterTaps {
  /** Rows per phase: N (channel-last) or C*N (channel-first). */
  rows: number;
  /** The [rows, oH, oW*perPosition] window of tap (kh, kw). */
  tap(kh: number, kw: number): TensorInfo;
}

export function filterTaps(ops: KernelOps, x: TensorInfo, g: ConvGeometry, channelFirst: boolean): FilterTaps {
  const { rows: paddedRows, cols, padH, padW } = phasePadding(g);
  const xp = ops.padOrCrop(x, padH, padW);
  const rb = paddedRows / g.sH;
  const cb = cols / g.sW;
  const c = g.inC;
  // Stride phases: [N, rb, sH, cb, sW, C] -> [sW, sH, N, rb, cb, C] as two 3-D transposes
  // (wasm's 6-D transpose is ~80x slower than these).
  let phased = xp;
  if (g.sH > 1 || g.sW > 1) {
    const rowsSplit = ops.transpose(ops.reshape(xp, [g.batch * rb, g.sH, cb * g.sW * c]), [1, 0, 2]);
    phased = ops.transpose(ops.reshape(rowsSplit, [g.sH * g.batch * rb * cb, g.sW, c]), [1, 0, 2]);
  }
  // Channel-first: [phases, N*rb*cb, C] -> [phases, C, N*rb*cb]
  if (channelFirst) phased = ops.transpose(ops.reshape(phased, [g.sH * g.sW, g.batch * rb * cb, c]), [0, 2, 1]);
  const rows = channelFirst ? c * g.batch : g.batch;
  const perPosition = channelFirst ? 1 : c;
  const blocks = ops.reshape(phased, [g.sH * g.sW * rows, rb, cb * perPosition]);
  return {
    rows,
    tap(kh, kw) {
      const phase = (kw % g.sW) * g.sH + (kh % g.sH);
      return ops.slice(
        blocks,
        [phase * rows, Math.floor(kh / g.sH), Math.floor(kw / g.sW) * perPosition],
        [rows, g.outH, g.outW * perPosition],
      );
    },
  };
}
