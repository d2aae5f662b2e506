import { backend_util, type Conv2DBackpropFilterAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { KernelOps } from './kernel_ops.ts';
import { convGeometry } from './conv_geometry.ts';
import { filterTaps } from './filter_taps.ts';
import { heapOffset, heapTensor, simdKernels } from './simd/simd_kernels.ts';

/**
 * dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*sH+kh-padTop, ow*sW+kw-padLeft, ci] * dy[n,oh,ow,co].
 * With output channels in fours: one SIMD pass (simd/). Otherwise composed.
 */
const conv2DBackpropFilter: KernelFunc = (args) => simdConv2DFilterGrad(args) ?? composedConv2DFilterGrad(args);

function geometry({ inputs, attrs }: Parameters<KernelFunc>[0]) {
  const { x } = inputs as { x: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  if (dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter on wasm supports NHWC only, got ${dataFormat}`);
  return convGeometry(backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode));
}

/** The longest row a 1x1 convolution's positions are cut into (the kernel's block, in positions). */
const POINTWISE_ROW = 128;

/**
 * One pass in WebAssembly SIMD (simd/conv_filter_grad.wat): per block of output rows, tap and
 * four input channels, sums in registers over the block; no tap copies, no repacking.
 * Undefined where it does not apply (output channels not in fours; no SIMD).
 */
export function simdConv2DFilterGrad(args: Parameters<KernelFunc>[0]): TensorInfo | undefined {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  const coutC = filterShape[3];
  if (coutC % 4 !== 0) return undefined;
  const simd = simdKernels(backend);
  if (!simd) return undefined;
  let g = geometry(args);
  if (g.kH === 1 && g.kW === 1 && g.sH === 1 && g.sW === 1 && g.padTop === 0 && g.padLeft === 0) {
    // x and dy are [positions, channels] matrices: cut them into rows no longer than the
    // kernel's block, whatever the images' widths, so that a block's dy stays in cache
    const positions = g.batch * g.outH * g.outW;
    let row = Math.min(POINTWISE_ROW, positions);
    while (positions % row !== 0) row--;
    g = { ...g, batch: 1, inH: positions / row, outH: positions / row, inW: row, outW: row };
  }
  const dw = heapTensor(backend, filterShape);
  simd.convFilterGrad(
    heapOffset(backend, x), heapOffset(backend, dy), heapOffset(backend, dw),
    g.batch, g.inH, g.inW, g.inC, g.outH, g.outW, coutC, g.kH, g.kW, g.sH, g.sW, g.padTop, g.padLeft,
  );
  return dw;
}

/**
 * Composed: x is padded and split into stride phases once, channel-first, so that every
 * filter tap is one cheap slice [Ci, N*oH*oW] and one matmul with dy [N*oH*oW, Co];
 * no strided slices and no transposed matmuls (both slow on wasm).
 */
export const composedConv2DFilterGrad: KernelFunc = (args) => {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  const g = geometry(args);
  const ops = KernelOps.of(backend, 'wasm');
  const m = g.batch * g.outH * g.outW;
  const coutC = filterShape[3];
  const dy2d = ops.reshape(dy, [m, coutC]);

  if (g.kH === 1 && g.kW === 1 && g.sH === 1 && g.sW === 1 && g.padTop === 0 && g.padLeft === 0) {
    const x2d = ops.reshape(x, [m, g.inC]);
    // wasm's matmul repacks its right operand ([m, channels], fresh every step) at several
    // times the cost of the multiply-adds: put the narrower of x and dy on the right.
    if (g.inC < coutC) {
      const dWT = ops.matMul(ops.transpose(dy2d, [1, 0]), x2d); // [Co, Ci]
      return ops.finish(ops.reshape(ops.transpose(dWT, [1, 0]), filterShape));
    }
    return ops.finish(ops.reshape(ops.matMul(ops.transpose(x2d, [1, 0]), dy2d), filterShape));
  }

  const taps = filterTaps(ops, x, g, true);
  const perTap: TensorInfo[] = [];
  for (let kh = 0; kh < g.kH; kh++) {
    for (let kw = 0; kw < g.kW; kw++) {
      // [Ci*N, oH, oW] -> [Ci, N*oH*oW] x [N*oH*oW, Co]
      perTap.push(ops.matMul(ops.reshape(taps.tap(kh, kw), [g.inC, m]), dy2d));
    }
  }
  return ops.finish(ops.reshape(ops.concat(perTap, 0), filterShape));
};

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter,
};
