import { backend_util, type DepthwiseConv2dNativeBackpropFilterAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { KernelOps } from './kernel_ops.ts';
import { convGeometry } from './conv_geometry.ts';
import { filterTaps } from './filter_taps.ts';
import { disposeHeapTensor, heapOffset, heapTensor, simdKernels } from './simd/simd_kernels.ts';

/**
 * dW[kh,kw,c,m] = sum_{n,oh,ow} x[n, oh*sH+kh-padTop, ow*sW+kw-padLeft, c] * dy[n,oh,ow,c*mult+m].
 * With multiplier 1 and channels in fours (MobileNet's): one SIMD pass (simd/). Otherwise composed.
 */
const depthwiseConv2dBackpropFilter: KernelFunc = (args) => simdDepthwiseFilterGrad(args) ?? composedDepthwiseFilterGrad(args);

function convInfo({ inputs, attrs }: Parameters<KernelFunc>[0]) {
  const { x } = inputs as { x: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  return backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, dilations, pad, dimRoundingMode, true);
}

/**
 * One pass over dy in WebAssembly SIMD (simd/depthwise_gradients.wat), no tap copies;
 * undefined where it does not apply (a multiplier, channels not in fours, dilation: the cpu
 * backend, our oracle, has none; no SIMD).
 */
export function simdDepthwiseFilterGrad(args: Parameters<KernelFunc>[0]): TensorInfo | undefined {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { filterShape } = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const [, , channels, mult] = filterShape;
  const info = convInfo(args);
  if (mult !== 1 || channels % 4 !== 0 || info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  const simd = simdKernels(backend);
  if (!simd) return undefined;
  const dw = heapTensor(backend, filterShape);
  const row = heapTensor(backend, filterShape); // scratch: one output row's sums
  simd.depthwiseFilterGrad(
    heapOffset(backend, x), heapOffset(backend, dy), heapOffset(backend, dw), heapOffset(backend, row),
    info.batchSize, info.inHeight, info.inWidth, channels, info.outHeight, info.outWidth,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    info.padInfo.top, info.padInfo.left,
  );
  disposeHeapTensor(backend, row);
  return dw;
}

/**
 * Composed, per filter tap: one slice of the phase-split padded x (filter_taps.ts), an
 * elementwise product with dy, and a column sum (a global average pool, see KernelOps.sumRows).
 */
export const composedDepthwiseFilterGrad: KernelFunc = (args) => {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { filterShape } = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const g = convGeometry(convInfo(args));
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
