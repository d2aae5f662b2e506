// Our SIMD gradient kernels on the wasm backend against the composed ones they replace, at the
// engine benchmark model's layers (batch 8 at 160 px), alternating in one process so that both
// see the same machine: `node --import tsx libs/engine/src/bench/simd_gradients_bench.ts [rounds]`.
// Prints, per kernel, the median over rounds of the time for all its layers.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../backend.ts';
import { composedConv2DFilterGrad, simdConv2DFilterGrad } from '../kernels/conv2d_backprop_filter.ts';
import { composedDepthwiseFilterGrad, simdDepthwiseFilterGrad } from '../kernels/depthwise_conv2d_backprop_filter.ts';
import { composedDepthwiseInputGrad, simdDepthwiseInputGrad } from '../kernels/depthwise_conv2d_backprop_input.ts';
import { separableBlocks } from './benchmark_model.ts';

await useBackend('wasm');
const backend = tf.backend();
const rounds = Number(process.argv[2] ?? 5);

type Args = { inputs: Record<string, tf.Tensor>; backend: tf.KernelBackend; attrs: object };
const depthwiseFilter: Args[] = [];
const depthwiseInput: Args[] = [];
// the stem (3x3/2, 3 -> 16 channels), then each block's 1x1 convolution
const convFilter: Args[] = [{
  inputs: { x: tf.randomNormal([8, 160, 160, 3], 0, 1, 'float32', 1), dy: tf.randomNormal([8, 80, 80, 16], 0, 1, 'float32', 2) },
  backend, attrs: { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 16] },
}];
let size = 80; // after the stride-2 stem at 160 px
let channels = 16;
for (const [out, stride] of separableBlocks) {
  const outSize = Math.ceil(size / stride);
  const x = tf.randomNormal([8, size, size, channels], 0, 1, 'float32', 1);
  const dy = tf.randomNormal([8, outSize, outSize, channels], 0, 1, 'float32', 2);
  const depthwise = { strides: [stride, stride], dilations: [1, 1], pad: 'same' };
  depthwiseFilter.push({ inputs: { x, dy }, backend, attrs: { ...depthwise, filterShape: [3, 3, channels, 1] } });
  depthwiseInput.push({
    inputs: { dy, filter: tf.randomNormal([3, 3, channels, 1], 0, 1, 'float32', 3) },
    backend, attrs: { ...depthwise, inputShape: [8, size, size, channels] },
  });
  convFilter.push({
    inputs: { x: tf.randomNormal([8, outSize, outSize, channels], 0, 1, 'float32', 4), dy: tf.randomNormal([8, outSize, outSize, out], 0, 1, 'float32', 5) },
    backend, attrs: { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [1, 1, channels, out] },
  });
  size = outSize;
  channels = out;
}

type Path = (args: never) => tf.TensorInfo | undefined;
const kernels: Record<string, { layers: Args[]; simd: Path; composed: Path }> = {
  depthwise_filter: { layers: depthwiseFilter, simd: simdDepthwiseFilterGrad as Path, composed: composedDepthwiseFilterGrad as unknown as Path },
  depthwise_input: { layers: depthwiseInput, simd: simdDepthwiseInputGrad as Path, composed: composedDepthwiseInputGrad as unknown as Path },
  conv_filter: { layers: convFilter, simd: simdConv2DFilterGrad as Path, composed: composedConv2DFilterGrad as unknown as Path },
};

function time(path: Path, layers: Args[]): number {
  const start = performance.now();
  for (const args of layers) {
    const out = path(args as never);
    if (!out) throw new Error('the SIMD path does not apply here');
    backend.disposeData(out.dataId);
  }
  return performance.now() - start;
}

const ms: Record<string, number[]> = {};
for (const [name, k] of Object.entries(kernels)) {
  time(k.simd, k.layers); // warm-up
  time(k.composed, k.layers);
  ms[`${name}_simd`] = [];
  ms[`${name}_composed`] = [];
}
for (let r = 0; r < rounds; r++) {
  for (const [name, k] of Object.entries(kernels)) {
    ms[`${name}_simd`].push(time(k.simd, k.layers));
    ms[`${name}_composed`].push(time(k.composed, k.layers));
  }
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const result: Record<string, number> = { rounds };
for (const name of Object.keys(kernels)) {
  const simd = median(ms[`${name}_simd`]);
  const composed = median(ms[`${name}_composed`]);
  Object.assign(result, {
    [`${name}_layers`]: kernels[name].layers.length, [`${name}_simd_ms`]: Number(simd.toFixed(2)),
    [`${name}_composed_ms`]: Number(composed.toFixed(2)), [`${name}_composed_over_simd`]: Number((composed / simd).toFixed(2)),
  });
}
process.stdout.write(`${JSON.stringify(result)}\n`);
