import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initBackend } from '@kd/engine';
import * as tf from '@tensorflow/tfjs-core';
import { l2Distill } from './l2.ts';
import { HeadPairingError } from './pairing.ts';
import { assertClose, assertNoGradient } from './testing.ts';

await initBackend('cpu');

const student = () => [tf.tensor4d([1, 2, 3, 4], [1, 1, 1, 4]), tf.tensor4d([2], [1, 1, 1, 1])];
const teacher = () => [tf.zeros([1, 1, 1, 4]) as tf.Tensor4D, tf.tensor4d([1], [1, 1, 1, 1])];

test('l2: weight * sum of per-scale mean squared differences, by hand', () => {
  // scale 0: (1 + 4 + 9 + 16) / 4 = 7.5; scale 1: (2 - 1)^2 = 1
  const loss = l2Distill(student(), teacher());
  assertClose(loss.total.dataSync()[0], 100 * 8.5, 'total');
  assertClose(loss.parts.distill_l2.dataSync()[0], 850, 'distill_l2');
  assertClose(l2Distill(student(), teacher(), 2).total.dataSync()[0], 17, 'weight 2');
});

test('l2: zero when student == teacher', () => {
  assert.equal(l2Distill(student(), student()).total.dataSync()[0], 0);
});

test('l2: gradient flows to the student only', () => {
  const s = student().map((t) => tf.variable(t));
  const t = teacher().map((x) => tf.variable(x));
  const { grads } = tf.variableGrads(() => l2Distill(s as unknown as tf.Tensor4D[], t as unknown as tf.Tensor4D[]).total, [...s, ...t]);
  // d/dS of 100 * mean((S-T)^2) = 200 (S - T) / n
  assert.deepEqual([...grads[s[0].name]!.dataSync()], [50, 100, 150, 200]);
  assert.deepEqual([...grads[s[1].name]!.dataSync()], [200]);
  for (const v of t) assertNoGradient(grads, v);
  tf.dispose([...s, ...t, ...Object.values(grads).filter((g) => g !== null)]);
});

test('l2: mismatched shapes name the scale', () => {
  assert.throws(() => l2Distill([tf.zeros([1, 2, 2, 21]) as tf.Tensor4D], [tf.zeros([1, 2, 2, 75]) as tf.Tensor4D]), (e: unknown) => {
    assert.ok(e instanceof HeadPairingError);
    assert.match(e.message, /scale 0: teacher shape \[1,2,2,75\] vs student \[1,2,2,21\]/);
    return true;
  });
});
