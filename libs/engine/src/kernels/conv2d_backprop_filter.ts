import { backend_util, type Conv2DBackpropFilterAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { KernelOps } from './kernel_ops.ts';
import { convGeometry } from './conv_geometry.ts';
import { filterTaps } from './filter_taps.ts';

/**
 * dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*sH+kh-padTop, ow*sW+kw-padLeft, ci] * dy[n,oh,ow,co].
 * x is padded and split into stride phases once, channel-first, so that every filter tap
 * is one cheap slice [Ci, N*oH*oW] and one matmul with dy [N*oH*oW, Co];
 * no strided slices and no transposed matmuls (both slow on wasm).
 */
const conv2DBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  if (dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter on wasm supports NHWC only, got ${dataFormat}`);
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode);
  const g = convGeometry(info);
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
