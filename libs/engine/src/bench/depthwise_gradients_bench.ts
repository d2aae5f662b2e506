// The depthwise gradients on the wasm backend, SIMD against composed, at the engine benchmark
// model's nine depthwise layers (batch 8 at 160 px), alternating in one process so that both
// see the same machine: `node --import tsx libs/engine/src/bench/depthwise_gradients_bench.ts [rounds]`.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../backend.ts';
import { composedDepthwiseFilterGrad, simdDepthwiseFilterGrad } from '../kernels/depthwise_conv2d_backprop_filter.ts';
import { composedDepthwiseInputGrad, simdDepthwiseInputGrad } from '../kernels/depthwise_conv2d_backprop_input.ts';
import { separableBlocks } from './benchmark_model.ts';

await useBackend('wasm');
const backend = tf.backend();
const rounds = Number(process.argv[2] ?? 5);

// the inputs of each depthwise layer: x [8, s, s, c] and dy at the layer's stride
let size = 80; // after the stride-2 stem at 160 px
let channels = 16;
const layers = separableBlocks.map(([out, stride]) => {
  const outSize = Math.ceil(size / stride);
  const layer = {
    x: tf.randomNormal([8, size, size, channels], 0, 1, 'float32', 1),
    dy: tf.randomNormal([8, outSize, outSize, channels], 0, 1, 'float32', 2),
    filter: tf.randomNormal([3, 3, channels, 1], 0, 1, 'float32', 3),
    filterAttrs: { strides: [stride, stride], dilations: [1, 1], pad: 'same', filterShape: [3, 3, channels, 1] },
    inputAttrs: { strides: [stride, stride], dilations: [1, 1], pad: 'same', inputShape: [8, size, size, channels] },
  };
  size = outSize;
  channels = out;
  return layer;
});

type Path = (args: never) => tf.TensorInfo | undefined;
type Layer = (typeof layers)[number];
const filterArgs = (l: Layer) => ({ inputs: { x: l.x, dy: l.dy }, backend, attrs: l.filterAttrs });
const inputArgs = (l: Layer) => ({ inputs: { dy: l.dy, filter: l.filter }, backend, attrs: l.inputAttrs });
function time(path: Path, args: (l: Layer) => object): number {
  const start = performance.now();
  for (const l of layers) {
    const out = path(args(l) as never);
    if (!out) throw new Error('the SIMD path does not apply here');
    backend.disposeData(out.dataId);
  }
  return performance.now() - start;
}

const paths: Record<string, [Path, (l: Layer) => object]> = {
  filter_simd: [simdDepthwiseFilterGrad as Path, filterArgs], filter_composed: [composedDepthwiseFilterGrad as unknown as Path, filterArgs],
  input_simd: [simdDepthwiseInputGrad as Path, inputArgs], input_composed: [composedDepthwiseInputGrad as unknown as Path, inputArgs],
};
const ms: Record<string, number[]> = Object.fromEntries(Object.keys(paths).map((k) => [k, []]));
for (const [path, args] of Object.values(paths)) time(path, args); // warm-up
for (let r = 0; r < rounds; r++) for (const [name, [path, args]] of Object.entries(paths)) ms[name].push(time(path, args));
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const result = Object.fromEntries(Object.entries(ms).map(([k, v]) => [`${k}_ms`, Number(median(v).toFixed(2))]));
process.stdout.write(`${JSON.stringify({
  layers: layers.length, rounds, ...result,
  filter_composed_over_simd: Number((result.filter_composed_ms / result.filter_simd_ms).toFixed(2)),
  input_composed_over_simd: Number((result.input_composed_ms / result.input_simd_ms).toFixed(2)),
})}\n`);
