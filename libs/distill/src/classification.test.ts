import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initBackend } from '@kd/engine';
import * as tf from '@tensorflow/tfjs-core';
import { logitL2, softKl } from './classification.ts';
import { assertClose, assertNoGradient, LN3 } from './testing.ts';

await initBackend('cpu');

test('logitL2: mean squared logit difference, by hand', () => {
  // ((1-0)^2 + (2-0)^2 + (0-1)^2 + (3-1)^2) / 4 = 10 / 4
  const loss = logitL2(tf.tensor2d([[1, 2], [0, 3]]), tf.tensor2d([[0, 0], [1, 1]]));
  assertClose(loss.total.dataSync()[0], 2.5, 'total');
  assertClose(loss.parts.kd_logit_l2.dataSync()[0], 2.5, 'part');
  assert.equal(logitL2(tf.tensor2d([[1, 2]]), tf.tensor2d([[1, 2]])).total.dataSync()[0], 0);
});

test('softKl: tau^2 * mean over images of KL(teacher || student), by hand', () => {
  // teacher logits [0, 0]: uniform. Student [ln 3, 0]: softmax [3/4, 1/4] at tau 1;
  // at tau 2 the logits halve to [ln 3 / 2, 0]: softmax [r, 1] / (1 + r) with r = sqrt 3
  const kl = (p: number[]) => 0.5 * Math.log(0.5 / p[0]) + 0.5 * Math.log(0.5 / p[1]);
  const r = Math.sqrt(3);
  const student = tf.tensor2d([[LN3, 0], [0, 0]]); // the second image matches its teacher: KL 0
  const teacher = tf.tensor2d([[0, 0], [0, 0]]);
  assertClose(softKl(student, teacher, 1).total.dataSync()[0], kl([0.75, 0.25]) / 2, 'tau 1');
  assertClose(softKl(student, teacher, 2).parts.kd_soft_kl.dataSync()[0], (4 * kl([r / (1 + r), 1 / (1 + r)])) / 2, 'tau 2');
  assertClose(softKl(student, teacher, 1, 3).total.dataSync()[0], (3 * kl([0.75, 0.25])) / 2, 'weight 3');
  assertClose(softKl(teacher, teacher, 4).total.dataSync()[0], 0, 'student == teacher');
});

test('classification KD: gradients reach the student only', () => {
  const s = tf.variable(tf.tensor2d([[LN3, 0, 1]]));
  const t = tf.variable(tf.tensor2d([[0, 1, 2]]));
  const { grads } = tf.variableGrads(
    () => tf.add(softKl(s as unknown as tf.Tensor2D, t as unknown as tf.Tensor2D, 2).total, logitL2(s as unknown as tf.Tensor2D, t as unknown as tf.Tensor2D).total),
    [s, t],
  );
  // d/ds of tau^2 KL is tau (p_s - p_t); of mean((s-t)^2) it is 2 (s - t) / 3
  const soft = (x: number[]) => {
    const e = x.map((v) => Math.exp(v / 2));
    const z = e.reduce((a, b) => a + b);
    return e.map((v) => v / z);
  };
  const ps = soft([LN3, 0, 1]);
  const pt = soft([0, 1, 2]);
  const g = grads[s.name].dataSync();
  [LN3 - 0, 0 - 1, 1 - 2].forEach((d, k) => assertClose(g[k], 2 * (ps[k] - pt[k]) + (2 * d) / 3, `d/d s[${k}]`));
  assertNoGradient(grads, t);
  tf.dispose([s, t, ...Object.values(grads).filter((x) => x !== null)]);
});
