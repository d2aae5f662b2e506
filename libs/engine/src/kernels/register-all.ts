import { getKernel, registerGradient, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { activationGradConfig, leakyReluGradConfig, reluGradConfig } from './activation_grad.ts';
import { momentumUpdateConfig } from './momentum_update.ts';
import { batchNormKernelConfigs } from './batch_norm.ts';
import { conv2DBackpropFilterConfig } from './conv2d_backprop_filter.ts';
import { conv2DBackpropInputConfig } from './conv2d_backprop_input.ts';
import { depthwiseConv2dBackpropFilterConfig } from './depthwise_conv2d_backprop_filter.ts';
import { depthwiseConv2dBackpropInputConfig } from './depthwise_conv2d_backprop_input.ts';
import { sharedIdentityConfig } from './identity.ts';
import { leadingAxesReduceConfig } from './leading_axes_reduce.ts';
import { maxPoolGradConfig } from './max_pool_grad.ts';
import { padConfig } from './pad.ts';
import { reverseConfig } from './reverse.ts';
import { sliceConfig } from './slice.ts';

/** Kernels that make the wasm backend able to train convnets, and fast at it. */
const trainingKernels: KernelConfig[] = [
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseConv2dBackpropFilterConfig,
  depthwiseConv2dBackpropInputConfig,
  activationGradConfig,
  momentumUpdateConfig,
  ...batchNormKernelConfigs,
];

function replace(config: KernelConfig): void {
  if (getKernel(config.kernelName, config.backendName) != null) {
    unregisterKernel(config.kernelName, config.backendName);
  }
  registerKernel(config);
}

function originalWasmKernel(name: string): KernelConfig {
  const original = getKernel(name, 'wasm');
  if (original == null) throw new Error(`wasm backend has no ${name} kernel; import @tensorflow/tfjs-backend-wasm first`);
  return original;
}

let registered = false;

/** Registers our wasm training kernels (idempotent). Needs @tensorflow/tfjs-backend-wasm imported. */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  for (const config of trainingKernels) replace(config);
  for (const kind of ['Sum', 'Mean'] as const) replace(leadingAxesReduceConfig(originalWasmKernel(kind), kind));
  replace(sliceConfig(originalWasmKernel('Slice')));
  replace(padConfig(originalWasmKernel('PadV2')));
  replace(reverseConfig(originalWasmKernel('Reverse')));
  replace(maxPoolGradConfig(originalWasmKernel('MaxPoolGrad')));
  replace(sharedIdentityConfig(originalWasmKernel('Identity')));
  // one pass instead of three where the wasm kernel runs; tfjs' composition elsewhere
  registerGradient(reluGradConfig);
  registerGradient(leakyReluGradConfig);
}
