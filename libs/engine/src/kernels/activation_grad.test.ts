import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../backend.ts';
import { relativeError, runOnBoth, seededValues } from './testing.ts';
import { ACTIVATION_GRAD } from './activation_grad.ts';

await useBackend('wasm');

// x with exact zeros (the gradient there is alpha * dy, as tfjs' step and greater have it)
function inputs(n: number): { x: Float32Array; dy: Float32Array } {
  const x = seededValues([n], 31);
  for (let i = 0; i < n; i += 7) x[i] = 0;
  return { x, dy: seededValues([n], 32) };
}

test('ReLU and leaky ReLU gradients match the cpu backend (tfjs\' own composition), tails of every length', async () => {
  for (const n of [1, 2, 3, 4, 5, 7, 8, 1001, 8 * 20 * 20 * 16]) {
    const { x, dy } = inputs(n);
    for (const [name, f] of [['relu', tf.relu], ['leakyRelu', (t: tf.Tensor) => tf.leakyRelu(t, 0.1)]] as const) {
      const grad = tf.grad(f as (t: tf.Tensor) => tf.Tensor);
      const both = await runOnBoth(() => grad(tf.tensor1d(x), tf.tensor1d(dy)));
      assert.equal(relativeError(both.cpu, both.wasm), 0, `${name}, n ${n}`);
    }
  }
});

test('on wasm the gradient is one pass of our kernel', async () => {
  const { x, dy } = inputs(64);
  for (const f of [tf.relu, (t: tf.Tensor) => tf.leakyRelu(t, 0.2)]) {
    const info = await tf.profile(() => tf.grad(f as (t: tf.Tensor) => tf.Tensor)(tf.tensor1d(x), tf.tensor1d(dy)));
    const names = info.kernels.map((k) => k.name);
    assert.ok(names.includes(ACTIVATION_GRAD), names.join(','));
    assert.ok(!names.some((k) => ['Step', 'Greater', 'Select', 'Cast'].includes(k)), names.join(','));
  }
});
