// A checkpoint's inference forward (what evaluation, `kd infer` and the served teacher run):
// `node --import tsx libs/detection/src/bench/inference_forward_bench.ts CHECKPOINT [size] [batch]`
// (defaults 224, 8). Prints one JSON line: the median ms of 7 forwards after 2 warm-ups, on
// fixed random pixels, and the first output value (the same weights on two builds of the code
// must give about the same one).
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@kd/engine';
import { loadCheckpoint, readCheckpointConfig } from '../checkpoint/checkpoint.ts';
import { inferenceContext } from '../model/layers.ts';
import { createYoloV3 } from '../model/yolov3.ts';

const [dir, size = '224', batch = '8'] = process.argv.slice(2);
if (!dir) throw new Error('usage: inference_forward_bench.ts CHECKPOINT [size] [batch]');
const backend = await initBackend();
const config = readCheckpointConfig(dir);
const model = createYoloV3(config);
loadCheckpoint(dir, model.store, config);
const x = tf.randomUniform([Number(batch), Number(size), Number(size), 3], 0, 1, 'float32', 1) as tf.Tensor4D;
const forward = () => tf.tidy(() => model.forward(x, inferenceContext()).map((o) => o.dataSync())[0][0]);
for (let i = 0; i < 2; i++) forward();
const times: number[] = [];
for (let i = 0; i < 7; i++) {
  const start = performance.now();
  forward();
  times.push(performance.now() - start);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ checkpoint: dir, backend: backend.name, size: Number(size), batch: Number(batch), median_ms: times[3], first_output: forward() }));
