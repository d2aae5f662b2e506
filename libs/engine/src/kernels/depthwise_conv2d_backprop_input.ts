import { backend_util, type DepthwiseConv2dNativeBackpropInputAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { KernelOps } from './kernel_ops.ts';
import { convGeometry, transposedConvPadding } from './conv_geometry.ts';
import { dilateSpatial } from './dilate.ts';
import { heapOffset, heapTensor, simdKernels } from './simd/simd_kernels.ts';

/**
 * dx of a depthwise convolution. With multiplier 1 and channels in fours (MobileNet's): one
 * SIMD pass (simd/). Otherwise composed.
 */
const depthwiseConv2dBackpropInput: KernelFunc = (args) => simdDepthwiseInputGrad(args) ?? composedDepthwiseInputGrad(args);

function convInfo({ inputs, attrs }: Parameters<KernelFunc>[0]) {
  const { filter } = inputs as { filter: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  return backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, true);
}

/**
 * Each dy pixel times each tap's weights, added where that tap read x, in WebAssembly SIMD
 * (simd/depthwise_gradients.wat); undefined where it does not apply (a multiplier, channels
 * not in fours, dilation: the cpu backend, our oracle, has none; no SIMD).
 */
export function simdDepthwiseInputGrad(args: Parameters<KernelFunc>[0]): TensorInfo | undefined {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { inputShape } = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const [, , channels, mult] = filter.shape;
  const info = convInfo(args);
  if (mult !== 1 || channels % 4 !== 0 || info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  const simd = simdKernels(backend);
  if (!simd) return undefined;
  const dx = heapTensor(backend, inputShape);
  simd.depthwiseInputGrad(
    heapOffset(backend, dy), heapOffset(backend, filter), heapOffset(backend, dx),
    info.batchSize, info.inHeight, info.inWidth, channels, info.outHeight, info.outWidth,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    info.padInfo.top, info.padInfo.left,
  );
  return dx;
}

/**
 * Composed: a stride-1 depthwise convolution of the dilated, padded dy (C*mult channels) with
 * the flipped filter, then, for channel multiplier > 1, the sum over each input channel's
 * `mult` outputs (a [.., mult] x [mult, 1] matmul).
 */
export const composedDepthwiseInputGrad: KernelFunc = (args) => {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { inputShape } = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const filterShape = filter.shape as [number, number, number, number];
  const g = convGeometry(convInfo(args));
  const ops = KernelOps.of(backend, 'wasm');
  const [kH, kW, channels, mult] = filterShape;

  const flipped = ops.reshape(ops.reverse(filter, [0, 1]), [kH, kW, channels * mult, 1]);
  const dilated = dilateSpatial(ops, dy, g.sH, g.sW);
  const { padH, padW } = transposedConvPadding(g);
  const full = ops.padOrCrop(dilated, padH, padW);
  const perOutput = ops.depthwiseConv2d(full, flipped, [0, 0], [0, 0]);
  if (mult === 1) return ops.finish(perOutput);
  const summed = ops.matMul(ops.reshape(perOutput, [-1, mult]), ops.fill([mult, 1], 1));
  return ops.finish(ops.reshape(summed, inputShape));
};

export const depthwiseConv2dBackpropInputConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dBackpropInput,
};
