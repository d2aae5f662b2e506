import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../backend.ts';
import { relativeError, runOnBoth, seededValues } from '../kernels/testing.ts';
import { batchNormTrain } from './batch_norm_train.ts';
import { upsampleNearest2x } from './upsample_nearest.ts';

await useBackend('wasm');

// The textbook batch norm: its value for tfjs' autodiff to differentiate
function textbookBatchNorm(xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(xi, [0, 1, 2]);
  return tf.add(tf.mul(tf.div(tf.sub(xi, mean), tf.sqrt(tf.add(variance, 1e-5))), gi), bi);
}

// The fused ops must give the same values and gradients as tfjs' own autodiff of the
// textbook composition, computed on the cpu backend.
test('batchNormTrain matches autodiff of the moments-based formula on the cpu backend', async () => {
  const shape: [number, number, number, number] = [3, 5, 4, 6];
  const x = seededValues(shape, 11);
  const g = seededValues([6], 12);
  const b = seededValues([6], 13);
  const w = seededValues(shape, 14); // makes the loss sensitive to every output
  const lossOf = (y: tf.Tensor) => tf.sum(tf.mul(y, tf.tensor4d(w, shape)));
  const reference = await runOnBoth(() => {
    const grads = tf.grads((xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) => lossOf(textbookBatchNorm(xi, gi, bi)))(
      [tf.tensor4d(x, shape), tf.tensor1d(g), tf.tensor1d(b)]);
    return tf.concat(grads.map((t) => t.flatten()));
  });
  const fused = await runOnBoth(() => {
    const grads = tf.grads((xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) =>
      lossOf(batchNormTrain(xi as tf.Tensor4D, gi as tf.Tensor1D, bi as tf.Tensor1D).y))([tf.tensor4d(x, shape), tf.tensor1d(g), tf.tensor1d(b)]);
    return tf.concat(grads.map((t) => t.flatten()));
  });
  assert.ok(relativeError(reference.cpu, fused.cpu) <= 1e-4, `cpu: ${relativeError(reference.cpu, fused.cpu)}`);
  assert.ok(relativeError(reference.cpu, fused.wasm) <= 1e-4, `wasm: ${relativeError(reference.cpu, fused.wasm)}`);
});

test('batchNormTrain output has zero mean and unit variance per channel before the affine part', () => {
  tf.tidy(() => {
    const x = tf.tensor4d(seededValues([2, 3, 3, 4], 15), [2, 3, 3, 4]).mul(5).add(3) as tf.Tensor4D;
    const { y } = batchNormTrain(x, tf.ones([4]), tf.zeros([4]));
    const m = tf.moments(y, [0, 1, 2]);
    for (const v of m.mean.dataSync()) assert.ok(Math.abs(v) < 1e-5);
    for (const v of m.variance.dataSync()) assert.ok(Math.abs(v - 1) < 1e-3);
  });
});

// Oracle by hand: tfjs' own cpu ResizeNearestNeighborGrad is wrong for batch > 1 (4.22).
test('upsampleNearest2x repeats each pixel 2x2 and its gradient sums each 2x2 block', async () => {
  const [n, h, w, c] = [2, 3, 5, 4];
  const x = seededValues([n, h, w, c], 16);
  const weights = seededValues([n, 2 * h, 2 * w, c], 17);
  const at = (i: number, y: number, xx: number, ch: number, height: number, width: number) => ((i * height + y) * width + xx) * c + ch;
  const expectedUp = new Float32Array(n * 4 * h * w * c);
  const expectedGrad = new Float32Array(n * h * w * c);
  for (let i = 0; i < n; i++) for (let y = 0; y < 2 * h; y++) for (let xx = 0; xx < 2 * w; xx++) for (let ch = 0; ch < c; ch++) {
    const src = at(i, y >> 1, xx >> 1, ch, h, w);
    const dst = at(i, y, xx, ch, 2 * h, 2 * w);
    expectedUp[dst] = x[src];
    expectedGrad[src] += weights[dst];
  }
  const result = await runOnBoth(() => {
    const input = tf.tensor4d(x, [n, h, w, c]);
    const [gx] = tf.grads((xi: tf.Tensor) =>
      tf.sum(tf.mul(upsampleNearest2x(xi as tf.Tensor4D), tf.tensor4d(weights, [n, 2 * h, 2 * w, c]))))([input]);
    return tf.concat([upsampleNearest2x(input).flatten(), gx.flatten()]);
  });
  const expected = new Float32Array([...expectedUp, ...expectedGrad]);
  assert.ok(relativeError(expected, result.cpu) <= 1e-6, `cpu: ${relativeError(expected, result.cpu)}`);
  assert.ok(relativeError(expected, result.wasm) <= 1e-6, `wasm: ${relativeError(expected, result.wasm)}`);
});

test('batchNormTrain on our wasm kernels (channels in fours) matches autodiff of the formula on the cpu backend, and leaves nothing behind', async () => {
  // 8 x 32 x 32 positions: long channel sums; 12 and 64 channels; a batch of one
  for (const shape of [[8, 32, 32, 12], [2, 5, 3, 64], [1, 1, 1, 4]] as Array<[number, number, number, number]>) {
    const c = shape[3];
    const x = seededValues(shape, 21).map((v) => 3 + 5 * v);
    const g = seededValues([c], 22);
    const b = seededValues([c], 23);
    const w = seededValues(shape, 24);
    const lossOf = (y: tf.Tensor) => tf.sum(tf.mul(y, tf.tensor4d(w, shape)));
    const reference = await runOnBoth(() => {
      const grads = tf.grads((xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) => lossOf(textbookBatchNorm(xi, gi, bi)))(
        [tf.tensor4d(x, shape), tf.tensor1d(g), tf.tensor1d(b)]);
      const { mean, variance } = tf.moments(tf.tensor4d(x, shape), [0, 1, 2]);
      return tf.concat([...grads.map((t) => t.flatten()), mean, variance]);
    });
    const before = tf.memory().numTensors;
    const fused = await runOnBoth(() => {
      const input = tf.tensor4d(x, shape);
      const grads = tf.grads((xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) =>
        lossOf(batchNormTrain(xi as tf.Tensor4D, gi as tf.Tensor1D, bi as tf.Tensor1D).y))([input, tf.tensor1d(g), tf.tensor1d(b)]);
      const { mean, variance } = batchNormTrain(input, tf.tensor1d(g), tf.tensor1d(b));
      return tf.concat([...grads.map((t) => t.flatten()), mean, variance]);
    });
    assert.equal(tf.memory().numTensors, before, `${shape}: no tensor left`);
    assert.ok(relativeError(reference.cpu, fused.wasm) <= 1e-4, `${shape} wasm: ${relativeError(reference.cpu, fused.wasm)}`);
    assert.ok(relativeError(reference.cpu, fused.cpu) <= 1e-4, `${shape} cpu: ${relativeError(reference.cpu, fused.cpu)}`);
  }
  const probe = await tf.profile(() => tf.tidy(() => batchNormTrain(tf.ones([1, 2, 2, 8]), tf.ones([8]), tf.zeros([8])).y));
  assert.ok(probe.kernels.some((k) => k.name === 'KdBatchNormForward'), 'the wasm kernels ran');
});

test('batchNormTrain with the activation that follows (ReLU, leaky ReLU) matches batch norm then tfjs\' activation on the cpu backend, in one kernel on wasm', async () => {
  const shape: [number, number, number, number] = [4, 9, 7, 16];
  const x = seededValues(shape, 31).map((v) => 3 + 5 * v);
  const g = seededValues([16], 32);
  const b = seededValues([16], 33).map((v) => v - 0.5); // shifts either way: outputs of both signs
  const w = seededValues(shape, 34);
  const lossOf = (y: tf.Tensor) => tf.sum(tf.mul(y, tf.tensor4d(w, shape)));
  for (const slope of [0, 0.1]) {
    const activate = (y: tf.Tensor) => (slope === 0 ? tf.relu(y) : tf.leakyRelu(y, slope));
    const both = (f: (xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) => tf.Tensor) => runOnBoth(() => {
      const inputs = [tf.tensor4d(x, shape), tf.tensor1d(g), tf.tensor1d(b)];
      const grads = tf.grads((xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) => lossOf(f(xi, gi, bi)))(inputs);
      return tf.concat([f(inputs[0], inputs[1], inputs[2]).flatten(), ...grads.map((t) => t.flatten())]);
    });
    const reference = await both((xi, gi, bi) => activate(textbookBatchNorm(xi, gi, bi)));
    const fused = await both((xi, gi, bi) => batchNormTrain(xi as tf.Tensor4D, gi as tf.Tensor1D, bi as tf.Tensor1D, 1e-5, slope).y);
    assert.ok(relativeError(reference.cpu, fused.wasm) <= 1e-4, `slope ${slope} wasm: ${relativeError(reference.cpu, fused.wasm)}`);
    assert.ok(relativeError(reference.cpu, fused.cpu) <= 1e-4, `slope ${slope} cpu: ${relativeError(reference.cpu, fused.cpu)}`);
    const negatives = Array.from(reference.cpu.subarray(0, x.length)).filter((v) => (slope === 0 ? v === 0 : v < 0)).length;
    assert.ok(negatives > x.length / 10, `slope ${slope}: the activation's negative side was exercised (${negatives})`);
    const probe = await tf.profile(() => tf.tidy(() => batchNormTrain(tf.ones([1, 2, 2, 8]), tf.ones([8]), tf.zeros([8]), 1e-5, slope).y));
    assert.deepEqual(probe.kernels.map((k) => k.name).filter((n) => /Relu|KdBatchNormForward/.test(n)), ['KdBatchNormForward'], 'one kernel on wasm');
  }
});
