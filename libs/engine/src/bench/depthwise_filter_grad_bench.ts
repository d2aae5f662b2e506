// The depthwise filter gradient on the wasm backend, SIMD against composed, at the engine
// benchmark model's nine depthwise layers (batch 8 at 160 px), alternating in one process so
// that both see the same machine: `node --import tsx libs/engine/src/bench/depthwise_filter_grad_bench.ts [rounds]`.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../backend.ts';
import { composedDepthwiseFilterGrad, simdDepthwiseFilterGrad } from '../kernels/depthwise_conv2d_backprop_filter.ts';
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
    attrs: { strides: [stride, stride], dilations: [1, 1], pad: 'same', filterShape: [3, 3, channels, 1] },
  };
  size = outSize;
  channels = out;
  return layer;
});

type Path = (args: never) => tf.TensorInfo | undefined;
function time(path: Path): number {
  const start = performance.now();
  for (const l of layers) {
    const out = path({ inputs: { x: l.x, dy: l.dy }, backend, attrs: l.attrs } as never);
    if (!out) throw new Error('the SIMD path does not apply here');
    backend.disposeData(out.dataId);
  }
  return performance.now() - start;
}

const paths: Record<string, Path> = { simd: simdDepthwiseFilterGrad as Path, composed: composedDepthwiseFilterGrad as unknown as Path };
const ms: Record<string, number[]> = { simd: [], composed: [] };
for (const name of Object.keys(paths)) time(paths[name]); // warm-up
for (let r = 0; r < rounds; r++) for (const name of Object.keys(paths)) ms[name].push(time(paths[name]));
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const result = { layers: layers.length, rounds, simd_ms: median(ms.simd), composed_ms: median(ms.composed) };
process.stdout.write(`${JSON.stringify({ ...result, composed_over_simd: result.composed_ms / result.simd_ms })}\n`);
