import { backend_util, type Conv2DBackpropInputAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { KernelOps } from './kernel_ops.ts';
import { convGeometry, transposedConvPadding } from './conv_geometry.ts';
import { dilateSpatial } from './dilate.ts';

/**
 * dx as a forward stride-1 convolution of the dilated, padded dy with the spatially
 * flipped filter whose in/out channels are swapped: XNNPACK's fast forward convolution
 * instead of wasm's own Conv2DBackpropInput, a scalar loop.
 */
const conv2DBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
  if (dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropInput on wasm supports NHWC only, got ${dataFormat}`);
  const info = backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode);
  const g = convGeometry(info);
  const ops = KernelOps.of(backend, 'wasm');
  const outC = filter.shape[3];

  if (g.kH === 1 && g.kW === 1 && g.sH === 1 && g.sW === 1 && g.padTop === 0 && g.padLeft === 0) {
    const m = g.batch * g.outH * g.outW;
    const wT = ops.transpose(ops.reshape(filter, [g.inC, outC]), [1, 0]);
    return ops.finish(ops.reshape(ops.matMul(ops.reshape(dy, [m, outC]), wT), inputShape));
  }

  const flipped = ops.transpose(ops.reverse(filter, [0, 1]), [0, 1, 3, 2]);
  const dilated = dilateSpatial(ops, dy, g.sH, g.sW);
  const { padH, padW } = transposedConvPadding(g);
  if (padH.some((p) => p < 0) || padW.some((p) => p < 0)) {
    const cropped = ops.padOrCrop(dilated, padH, padW);
    return ops.finish(ops.conv2d(cropped, flipped, [0, 0], [0, 0]));
  }
  return ops.finish(ops.conv2d(dilated, flipped, padH, padW));
};

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput,
};
