import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initBackend } from '@kd/engine';
import * as tf from '@tensorflow/tfjs-core';
import { fineGrainedDistill } from './fine_grained.ts';
import { assertClose, assertNoGradient, bce, blocks, LN2, LN3, sig } from './testing.ts';

await initBackend('cpu');

const C = 2;
const K = 5 + C;
// One image, 2x2 map, one anchor; per cell [x, y, w, h, obj, cls_0, cls_1], logits 0 and +-ln3
// so that the sigmoids are 1/2, 3/4 and 1/4.
const TEACHER = [
  [0, LN3, 0.5, -0.5, LN3, LN3, -LN3], // obj 3/4, hard mask 1
  [0, 0, 0, 0, 0, 0, 0], //               obj 1/2, hard mask 0 (the mask is t_obj > 0)
  [-LN3, 0, 1, 1, -LN3, 0, 0], //         obj 1/4, hard mask 0
  [0, 0, 0, 0, 2, 0, 0], //               obj sig(2), hard mask 1
].flat();
const map = (values: number[], shape = [1, 2, 2, K]) => tf.tensor4d(values, shape as [number, number, number, number]);

/** The loss by its definition, in plain JS, for any number of anchors per scale. */
function reference(student: number[][], teacher: number[][], weight = 1000) {
  let reg = 0;
  let cls = 0;
  let obj = 0;
  student.forEach((flat, s) => {
    const S = blocks(flat, K);
    const T = blocks(teacher[s], K);
    const M = S.length;
    S.forEach((sv, m) => {
      const tv = T[m];
      const o = sig(tv[4]);
      reg += ((bce(sv[0], sig(tv[0])) + bce(sv[1], sig(tv[1])) + Math.abs(sv[2] - tv[2]) + Math.abs(sv[3] - tv[3])) * o) / M;
      for (let k = 0; k < C; k++) cls += (bce(sv[5 + k], sig(tv[5 + k])) * o) / (M * C);
      obj += bce(sv[4], tv[4] > 0 ? 1 : 0) / M;
    });
  });
  return { reg: weight * reg, cls: weight * cls, obj: weight * obj };
}

test('fine_grained: zero student against the hand-made teacher, by hand', () => {
  // every BCE(0, q) is ln 2, so only |t_w| + |t_h| and the objectness weights vary
  const o = [0.75, 0.5, 0.25, sig(2)];
  const wh = [1, 0, 2, 0];
  const reg = o.reduce((sum, oi, m) => sum + (2 * LN2 + wh[m]) * oi, 0) / 4;
  const cls = (2 * LN2 * o.reduce((a, b) => a + b)) / (4 * 2);
  const obj = LN2;
  const loss = fineGrainedDistill([tf.zeros([1, 2, 2, K]) as tf.Tensor4D], [map(TEACHER)], C);
  assertClose(loss.parts.distill_reg.dataSync()[0], 1000 * reg, 'reg');
  assertClose(loss.parts.distill_cls.dataSync()[0], 1000 * cls, 'cls');
  assertClose(loss.parts.distill_obj.dataSync()[0], 1000 * obj, 'obj');
  assertClose(loss.total.dataSync()[0], 1000 * (reg + cls + obj), 'total');
});

test('fine_grained: two scales, three anchors, any logits: matches the definition; sums over scales', () => {
  // scale 0 is 1x1 with 3 anchors (channel a*(5+C)+k), scale 1 the 2x2 one-anchor map
  const s0 = Array.from({ length: 3 * K }, (_, i) => Math.sin(i + 1) * 2);
  const t0 = Array.from({ length: 3 * K }, (_, i) => Math.cos(i * 1.3) * 3);
  const s1 = Array.from({ length: 4 * K }, (_, i) => Math.cos(i * 0.7) - 0.2);
  const expected = reference([s0, s1], [t0, TEACHER], 10);
  const loss = fineGrainedDistill([map(s0, [1, 1, 1, 3 * K]), map(s1)], [map(t0, [1, 1, 1, 3 * K]), map(TEACHER)], C, 10);
  assertClose(loss.parts.distill_reg.dataSync()[0], expected.reg, 'reg');
  assertClose(loss.parts.distill_cls.dataSync()[0], expected.cls, 'cls');
  assertClose(loss.parts.distill_obj.dataSync()[0], expected.obj, 'obj');
  assertClose(loss.total.dataSync()[0], expected.reg + expected.cls + expected.obj, 'total');
});

test('fine_grained: student == teacher has no w/h error and is a minimum of the soft-target terms', () => {
  const t = map(TEACHER);
  const loss = fineGrainedDistill([t], [t], C);
  const T = blocks(TEACHER, K);
  // what is left of reg is the teacher's own x/y entropy BCE(t, sig t), weighted by sig(t_obj)
  const entropyOnly = T.reduce((sum, tv) => sum + (bce(tv[0], sig(tv[0])) + bce(tv[1], sig(tv[1]))) * sig(tv[4]), 0) / 4;
  assertClose(loss.parts.distill_reg.dataSync()[0], 1000 * entropyOnly, 'reg at S = T');
  const s = tf.variable(t);
  const { grads } = tf.variableGrads(() => fineGrainedDistill([s as unknown as tf.Tensor4D], [t], C).total, [s]);
  const g = grads[s.name].dataSync();
  for (let m = 0; m < 4; m++) {
    for (const k of [0, 1, 5, 6]) assert.ok(Math.abs(g[m * K + k]) < 1e-3, `d/d s[${m}][${k}] = ${g[m * K + k]}`);
  }
  tf.dispose([s, grads[s.name]]);
});

test('fine_grained: gradient flows to the student only and matches finite differences', () => {
  const s0 = Array.from({ length: 4 * K }, (_, i) => Math.sin(i * 0.9));
  const s = tf.variable(map(s0));
  const t = tf.variable(map(TEACHER));
  const lossOf = (x: tf.Tensor4D) => fineGrainedDistill([x], [t as unknown as tf.Tensor4D], C, 1).total;
  const { grads } = tf.variableGrads(() => lossOf(s as unknown as tf.Tensor4D), [s, t]);
  assertNoGradient(grads, t);
  const g = grads[s.name].dataSync();
  const eps = 1e-2;
  for (const i of [0, 3, 4, 6, 2 * K + 2, 3 * K + 4]) {
    const at = (d: number) => tf.tidy(() => lossOf(map(s0.map((v, j) => (j === i ? v + d : v)))).dataSync()[0]);
    assertClose(g[i], (at(eps) - at(-eps)) / (2 * eps), `d/d s[${i}]`, 2e-3);
  }
  tf.dispose([s, t, ...Object.values(grads).filter((x) => x !== null)]);
});
