import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { configSchema } from '@kd/config';
import { initBackend, useBackend } from '@kd/engine';
import { learningRate } from './lr_schedule.ts';
import { MomentumOptimizer } from './momentum.ts';

await initBackend('cpu');
await useBackend('wasm'); // loaded, for the fused update below
await tf.setBackend('cpu');

test('piecewise lr with linear warmup from 0 (PaddleDetection VOC settings)', () => {
  const c = configSchema.shape.optimizer.parse(undefined);
  assert.equal(learningRate(0, c), 0);
  assert.ok(Math.abs(learningRate(500, c) - 0.0005) < 1e-12);
  assert.equal(learningRate(1000, c), 0.001);
  assert.equal(learningRate(54999, c), 0.001);
  assert.ok(Math.abs(learningRate(55000, c) - 0.0001) < 1e-12);
  assert.ok(Math.abs(learningRate(62000, c) - 0.00001) < 1e-12);
  // warmup ramps towards the decayed lr when a boundary falls inside it
  assert.ok(Math.abs(learningRate(50, { ...c, boundaries: [10], warmup_steps: 100, warmup_start_factor: 0.5 }) - (0.0005 + (0.0001 - 0.0005) * 0.5)) < 1e-12);
});

test('momentum with L2 decay on decayed params only, checked by hand over two steps (cpu: composed; wasm: fused)', async () => {
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    checkTwoMomentumSteps();
  }
  await tf.setBackend('cpu');
});

function checkTwoMomentumSteps(): void {
  const w = tf.variable(tf.tensor1d([1, -2]), true, 'optim-test-w');
  const b = tf.variable(tf.tensor1d([3]), true, 'optim-test-b');
  const params = [{ name: 'w', variable: w, trainable: true, decay: true }, { name: 'b', variable: b, trainable: true, decay: false }];
  const opt = new MomentumOptimizer(0.9, 0.1);
  const grads = { 'optim-test-w': tf.tensor1d([0.5, 0.5]), 'optim-test-b': tf.tensor1d([1]) };
  opt.apply(params, grads, 0.1);
  // w: g' = 0.5 + 0.1*[1,-2] = [0.6, 0.3]; v = g'; w = [1 - 0.06, -2 - 0.03]
  assert.deepEqual([...w.dataSync()].map((x) => +x.toFixed(6)), [0.94, -2.03]);
  assert.deepEqual([...b.dataSync()].map((x) => +x.toFixed(6)), [2.9]);
  opt.apply(params, grads, 0.1);
  // w: g' = 0.5 + 0.1*[0.94,-2.03] = [0.594, 0.297]; v = 0.9*[0.6,0.3] + g' = [1.134, 0.567]
  assert.deepEqual([...w.dataSync()].map((x) => +x.toFixed(6)), [+(0.94 - 0.1134).toFixed(6), +(-2.03 - 0.0567).toFixed(6)]);
  assert.deepEqual([...b.dataSync()].map((x) => +x.toFixed(6)), [+(2.9 - 0.19).toFixed(6)]);
  tf.dispose([w, b, ...Object.values(grads)]);
  opt.dispose();
}
