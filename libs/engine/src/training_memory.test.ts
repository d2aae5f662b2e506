import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from './backend.ts';
import { createBenchmarkModel } from './bench/benchmark_model.ts';
import { batchNormTrain } from './ops/batch_norm_train.ts';
import { upsampleNearest2x } from './ops/upsample_nearest.ts';

await useBackend('wasm');

// Every composed kernel frees its temporaries and every custom gradient its saved tensors:
// neither tfjs' tensor count nor the wasm backend's live buffers may grow over training.
test('200 training steps on wasm leak no tensors and no backend buffers', () => {
  const model = createBenchmarkModel(3);
  const gamma = tf.variable(tf.ones([75])) as tf.Variable<tf.Rank.R1>;
  const beta = tf.variable(tf.zeros([75])) as tf.Variable<tf.Rank.R1>;
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomNormal([2, 64, 64, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
  const loss = () => {
    // Benchmark model (stride-2 and depthwise gradients) + BatchNorm + upsampling.
    const head = batchNormTrain(model.forward(x), gamma, beta).y;
    return tf.mean(tf.square(upsampleNearest2x(head))) as tf.Scalar;
  };
  const step = () => tf.tidy(() => { optimizer.minimize(loss, false, [...model.variables, gamma, beta]); });
  step(); // the optimizer creates its slot variables on the first step
  const backend = tf.engine().backend as unknown as { numDataIds(): number };
  const tensorsBefore = tf.memory().numTensors;
  const buffersBefore = backend.numDataIds();
  const losses: number[] = [];
  for (let i = 0; i < 200; i++) {
    step();
    if (i % 50 === 0) losses.push(tf.tidy(() => loss().dataSync()[0]));
  }
  assert.equal(tf.memory().numTensors, tensorsBefore, 'tensor count changed over 200 steps');
  assert.equal(backend.numDataIds(), buffersBefore, 'wasm buffers changed over 200 steps');
  assert.ok(losses[losses.length - 1] < losses[0], `loss did not fall: ${losses.join(', ')}`);
  tf.dispose([x, gamma, beta, ...model.variables]);
  optimizer.dispose();
});
