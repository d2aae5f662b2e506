import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../backend.ts';
import { seededValues } from './testing.ts';
import { fusedMomentumUpdate, MOMENTUM_UPDATE } from './momentum_update.ts';

await useBackend('wasm');

function composed(w: tf.Tensor, v: tf.Tensor, g: tf.Tensor, momentum: number, decay: number, lr: number) {
  const decayed = decay > 0 ? tf.add(g, tf.mul(w, decay)) : g;
  const vOut = tf.add(tf.mul(v, momentum), decayed);
  return { w: tf.sub(w, tf.mul(vOut, lr)), v: vOut };
}

test('the fused momentum update gives the composed update\'s floats, with and without decay, tails of every length', () => {
  for (const n of [1, 3, 4, 5, 8, 1001, 3 * 3 * 64 * 128]) {
    for (const decay of [0, 0.0005]) {
      tf.tidy(() => {
        const w = tf.tensor1d(seededValues([n], 41));
        const v = tf.tensor1d(seededValues([n], 42));
        const g = tf.tensor1d(seededValues([n], 43));
        const fused = fusedMomentumUpdate(w, v, g, { momentum: 0.9, decay, lr: 0.0123 });
        assert.ok(fused, 'fused on wasm');
        const expected = composed(w, v, g, 0.9, decay, 0.0123);
        assert.deepEqual(fused.v.dataSync(), expected.v.dataSync(), `v, n ${n}, decay ${decay}`);
        assert.deepEqual(fused.w.dataSync(), expected.w.dataSync(), `w, n ${n}, decay ${decay}`);
      });
    }
  }
});

test('the fused momentum update is wasm\'s alone: undefined on the cpu backend', async () => {
  assert.ok(tf.getKernel(MOMENTUM_UPDATE, 'wasm'));
  await tf.setBackend('cpu');
  try {
    tf.tidy(() => assert.equal(fusedMomentumUpdate(tf.ones([2]), tf.ones([2]), tf.ones([2]), { momentum: 0.9, decay: 0, lr: 1 }), undefined));
  } finally {
    await tf.setBackend('wasm');
  }
});
