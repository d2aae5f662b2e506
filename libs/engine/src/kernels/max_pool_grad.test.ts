import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../backend.ts';
import { relativeError, runOnBoth, seededValues } from './testing.ts';

await useBackend('wasm');

function maxPoolGrad(x: tf.Tensor4D, dy: tf.Tensor4D, filter: number, stride: number, pad: 'same' | 'valid'): tf.Tensor {
  const attrs = { filterSize: [filter, filter], strides: [stride, stride], pad };
  const output = tf.maxPool(x, filter, stride, pad);
  return tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output }, attrs) as tf.Tensor;
}

test('MaxPoolGrad sends each dy to the first maximum of its window (by hand)', async () => {
  // one 2x3 image, 2 channels; 2x2 windows, stride 1, valid: two windows per channel
  // channel 0: [[1, 5, 2], [5, 0, 3]] -> window 0 max 5 first at (0,1), window 1 max 5 at (0,1)
  // channel 1: [[7, 7, 7], [7, 7, 7]] -> ties everywhere: the first of each window, (0,0) and (0,1)
  const x = tf.tensor4d([1, 7, 5, 7, 2, 7, 5, 7, 0, 7, 3, 7], [1, 2, 3, 2]);
  const dy = tf.tensor4d([10, 100, 20, 200], [1, 1, 2, 2]);
  const dx = await maxPoolGrad(x, dy, 2, 1, 'valid').data();
  assert.deepEqual(Array.from(dx), [0, 100, 30, 200, 0, 0, 0, 0, 0, 0, 0, 0]);
});

test('MaxPoolGrad matches the cpu backend for filters 2-3, strides 1-2, same and valid, with ties', async () => {
  for (const filter of [2, 3]) for (const stride of [1, 2]) for (const pad of ['same', 'valid'] as const) for (const size of [7, 8]) {
    const xShape: [number, number, number, number] = [2, size, size, 3];
    // a coarse grid of values, so that windows often hold tied maxima
    const x = seededValues(xShape, filter * 10 + stride).map((v) => Math.round(v * 4));
    const outShape = tf.tidy(() => tf.maxPool(tf.tensor4d(x, xShape), filter, stride, pad).shape);
    const dy = seededValues(outShape, 5);
    const r = await runOnBoth(() => maxPoolGrad(tf.tensor4d(x, xShape), tf.tensor4d(dy, outShape as [number, number, number, number]), filter, stride, pad));
    // sums of several dy differ in the last bit only (cpu adds in another order); a wrong
    // position would be off by a whole dy
    assert.ok(relativeError(r.cpu, r.wasm) < 1e-6, `filter ${filter}, stride ${stride}, ${pad}, size ${size}`);
  }
});
