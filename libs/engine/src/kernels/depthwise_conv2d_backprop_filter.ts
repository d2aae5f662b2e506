import { backend_util, type DepthwiseConv2dNativeBackpropFilterAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { KernelOps } from './kernel_ops.ts';
import { convGeometry } from './conv_geometry.ts';
import { filterTaps } from './filter_taps.ts';

/**
 * dW[kh,kw,c,m] = sum_{n,oh,ow} x[n, oh*sH+kh-padTop, ow*sW+kw-padLeft, c] * dy[n,oh,ow,c*mult+m].
 * Per filter tap: one slice of the phase-split padded x (filter_taps.ts), an elementwise
 * product with dy, and a column sum (a global average pool, see KernelOps.sumRows).
 */
const depthwiseConv2dBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, dilations, pad, dimRoundingMode, true);
  const g = convGeometry(info);
  const ops = KernelOps.of(backend, 'wasm');
  const [, , channels, mult] = filterShape;

  const taps = filterTaps(ops, x, g, false);
  const positions = g.batch * g.outH * g.outW;
  const dyByChannel = ops.reshape(dy, mult === 1 ? [positions, channels] : [positions, channels, mult]);
  const perTap: TensorInfo[] = [];
  for (let kh = 0; kh < g.kH; kh++) {
    for (let kw = 0; kw < g.kW; kw++) {
      const window = ops.reshape(taps.tap(kh, kw), mult === 1 ? [positions, channels] : [positions, channels, 1]);
      perTap.push(ops.sumRows(ops.reshape(ops.mul(window, dyByChannel), [positions, channels * mult])));
    }
  }
  return ops.finish(ops.reshape(ops.concat(perTap, 0), filterShape));
};

export const depthwiseConv2dBackpropFilterConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dBackpropFilter,
};
