import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../backend.ts';
import { runOnBoth, seededValues } from './testing.ts';

await useBackend('wasm');

// Our Slice, PadV2 and Reverse replace wasm's; they copy exactly, so results must be identical.
test('Slice matches the cpu backend for ranks 1-4 and falls back above', async () => {
  const cases: Array<[number[], number[], number[]]> = [
    [[10], [3], [5]],
    [[6, 7], [1, 2], [4, 5]],
    [[3, 5, 7], [1, 0, 3], [2, 5, 2]],
    [[2, 5, 6, 3], [1, 1, 2, 0], [1, 3, 4, 3]],
    [[2, 3, 2, 4, 2], [0, 1, 1, 1, 0], [2, 2, 1, 2, 2]],
  ];
  for (const [shape, begin, size] of cases) {
    const values = seededValues(shape, shape.length);
    const r = await runOnBoth(() => tf.slice(tf.tensor(values, shape), begin, size));
    assert.deepEqual(r.wasm, r.cpu, `slice of [${shape}]`);
  }
});

test('PadV2 matches the cpu backend for ranks 1-6 with a constant value', async () => {
  const cases: Array<[number[], Array<[number, number]>]> = [
    [[5], [[2, 1]]],
    [[3, 4], [[0, 2], [1, 0]]],
    [[2, 5, 5, 3], [[0, 0], [1, 2], [0, 1], [0, 0]]],
    [[2, 3, 1, 3, 1, 4], [[0, 0], [0, 0], [0, 1], [0, 0], [0, 1], [0, 0]]],
    [[2, 3, 4], [[1, 1], [0, 0], [2, 3]]],
  ];
  for (const [shape, paddings] of cases) {
    const values = seededValues(shape, 7);
    const r = await runOnBoth(() => tf.pad(tf.tensor(values, shape), paddings, 0.5));
    assert.deepEqual(r.wasm, r.cpu, `pad of [${shape}]`);
  }
});

test('Reverse matches the cpu backend for every subset of axes, ranks 1-5, float32 and int32', async () => {
  const shapes = [[7], [3, 4], [2, 3, 5], [3, 3, 4, 5], [2, 1, 3, 2, 3]];
  for (const shape of shapes) {
    // every subset of the axes, including none and all
    for (let mask = 0; mask < 1 << shape.length; mask++) {
      const axes = shape.map((_, a) => a).filter((a) => (mask >> a) & 1);
      const values = seededValues(shape, mask + 1);
      const r = await runOnBoth(() => tf.reverse(tf.tensor(values, shape), axes));
      assert.deepEqual(r.wasm, r.cpu, `reverse of [${shape}] over [${axes}]`);
      const ints = Int32Array.from(values, (v) => Math.round(v * 100));
      const ri = await runOnBoth(() => tf.reverse(tf.tensor(ints, shape, 'int32'), axes));
      assert.deepEqual(ri.wasm, ri.cpu, `int32 reverse of [${shape}] over [${axes}]`);
    }
  }
});

test('Identity (a clone, and every tensor an op saves for its gradient) shares the buffer: no copy, no leak, values intact', async () => {
  const before = tf.memory();
  const x = tf.tensor([1, 2, 3, 4], [2, 2]);
  const buffers = tf.memory().numDataBuffers;
  const y = tf.clone(x);
  assert.equal(tf.memory().numDataBuffers, buffers, 'a clone allocates no buffer');
  x.dispose();
  assert.deepEqual(await y.data(), new Float32Array([1, 2, 3, 4]), 'the clone outlives the original');
  y.dispose();
  assert.equal(tf.memory().numTensors, before.numTensors);
  assert.equal(tf.memory().numBytes, before.numBytes);
  assert.equal(tf.memory().numDataBuffers, before.numDataBuffers);
  // a gradient whose op saved its input and output (Relu saves x, Exp saves y): same as the cpu backend
  const values = seededValues([3, 5], 3);
  const r = await runOnBoth(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.exp(tf.relu(t)), tf.relu(t))))(tf.tensor(values, [3, 5])));
  r.cpu.forEach((c, i) => assert.ok(Math.abs(r.wasm[i] - c) <= 1e-5 * Math.max(1, Math.abs(c)), `element ${i}: ${r.wasm[i]} vs ${c}`));
});
