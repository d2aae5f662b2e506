import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../backend.ts';
import { createBenchmarkModel } from './benchmark_model.ts';
import { benchmarkLoss } from './benchmark_loss.ts';
import { ReplicatedBenchStep } from './replicated_bench_step.ts';
import { relativeError } from '../relative_error.ts';

await useBackend('wasm');

// The benchmark's two-replica step must be the one-thread step of the same batch (the model
// has no batch norm, and the loss is a mean, so the size-weighted gradient average is exact):
// else `replicas2_train_step_ms` would time some other computation.
test('one step over two replicas gives the weights of one step of the whole batch on one thread', async () => {
  const shape: [number, number, number, number] = [3, 32, 32, 3]; // odd: shards of 2 and 1
  const images = tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', 11).dataSync() as Float32Array);
  const single = createBenchmarkModel(2);
  const sgd = tf.train.sgd(0.1);
  tf.tidy(() => { sgd.minimize(() => benchmarkLoss(single, tf.tensor4d(images, shape)), false, single.variables); });

  const model = createBenchmarkModel(2);
  const replicated = await ReplicatedBenchStep.start(model, 'wasm');
  const optimizer = tf.train.sgd(0.1);
  const tensorsBefore = tf.memory().numTensors;
  try {
    const start = performance.now();
    await replicated.run(images, shape, optimizer);
    const elapsed = performance.now() - start;
    assert.equal(tf.memory().numTensors, tensorsBefore, 'the step leaked tensors on this thread');
    // the phases the bench reports are consecutive parts of the step
    const phases = Object.values(replicated.lastPhases);
    assert.ok(phases.every((ms) => ms >= 0), JSON.stringify(replicated.lastPhases));
    assert.ok(replicated.lastPhases.own_gradients_ms > 0 && replicated.lastPhases.update_ms > 0);
    assert.ok(phases.reduce((a, b) => a + b) <= elapsed + 1e-6, `${JSON.stringify(replicated.lastPhases)} add up to more than the step's ${elapsed} ms`);
  } finally {
    await replicated.close();
  }
  for (const [i, v] of model.variables.entries()) {
    const err = relativeError(single.variables[i].dataSync() as Float32Array, v.dataSync() as Float32Array);
    assert.ok(err <= 1e-5, `${v.name}: rel err ${err}`);
  }
  tf.dispose([...single.variables, ...model.variables]);
  sgd.dispose();
  optimizer.dispose();
});
