import { backend_util, type DepthwiseConv2dNativeBackpropInputAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { KernelOps } from './kernel_ops.ts';
import { convGeometry, transposedConvPadding } from './conv_geometry.ts';
import { dilateSpatial } from './dilate.ts';

/**
 * dx of a depthwise convolution: a stride-1 depthwise convolution of the dilated, padded
 * dy (C*mult channels) with the flipped filter, then, for channel multiplier > 1, the sum
 * over each input channel's `mult` outputs (a [.., mult] x [mult, 1] matmul).
 */
const depthwiseConv2dBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const filterShape = filter.shape as [number, number, number, number];
  const info = backend_util.computeConv2DInfo(
    inputShape, filterShape, strides, dilations, pad, dimRoundingMode, true);
  const g = convGeometry(info);
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
