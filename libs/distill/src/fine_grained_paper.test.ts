import { test } from 'node:test';
import { initBackend } from '@kd/engine';
import * as tf from '@tensorflow/tfjs-core';
import { fineGrainedPaperDistill, type PaperDistillOptions } from './fine_grained_paper.ts';
import { assertClose, assertNoGradient, LN2, LN3, sig } from './testing.ts';

await initBackend('cpu');

const C = 2;
const K = 5 + C;
// One image, 2x2 map, one anchor. Cells 0, 1, 3 are class 0 and neighbours, so FM-NMS keeps only
// cell 3 (highest objectness); cell 2 is the only class-1 candidate and survives.
const TEACHER = [
  [0, LN3, 0.5, -0.5, LN3, LN3, -LN3], // class 0, obj 3/4: suppressed
  [0, 0, 0, 0, 0, 1, 0], //               class 0, obj 1/2: suppressed
  [-LN3, 0, 1, 1, -LN3, 0, 1], //         class 1, obj 1/4: kept
  [0, 0, 0.25, 0, 2, 1, 0], //            class 0, obj sig(2): kept
].flat();
const O = [0, 0, 0.25, sig(2)]; // teacher objectness after FM-NMS
const map = (values: number[], n = 1) => tf.tensor4d(values, [n, 2, 2, K]);
const zeros = (n = 1) => tf.zeros([n, 2, 2, K]) as tf.Tensor4D;
const run = (student: tf.Tensor4D, teacher: tf.Tensor4D, options?: PaperDistillOptions) => {
  const { total, parts } = fineGrainedPaperDistill([student], [teacher], C, options);
  return { total: total.dataSync()[0], reg: parts.distill_reg.dataSync()[0], cls: parts.distill_cls.dataSync()[0], obj: parts.distill_obj.dataSync()[0] };
};

// Zero student: every BCE(0, q) is ln 2; per image sums (reduction 'image'):
const REG = (2 * LN2 + 1 + 1) * O[2] + (2 * LN2 + 0.25) * O[3]; // x, y BCEs + |t_w| + |t_h|, times o
const CLS = 2 * LN2 * (O[2] + O[3]);
const OBJ = 2 * LN2; // BCE(0, o) over the two kept cells (suppressed: ignored, the default)

test('paper: FM-NMS then objectness-scaled terms, per-image sums, by hand', () => {
  const loss = run(zeros(), map(TEACHER));
  assertClose(loss.reg, REG, 'reg');
  assertClose(loss.cls, CLS, 'cls');
  assertClose(loss.obj, OBJ, 'obj');
  assertClose(loss.total, REG + CLS + OBJ, 'total');
});

test('paper: lambda_D scales only the objectness term, weight all; element reduction is means', () => {
  const l = run(zeros(), map(TEACHER), { lambdaD: 2, weight: 3 });
  assertClose(l.reg, 3 * REG, 'reg');
  assertClose(l.cls, 3 * CLS, 'cls');
  assertClose(l.obj, 6 * OBJ, 'obj');
  const e = run(zeros(), map(TEACHER), { reduction: 'element' });
  assertClose(e.reg, REG / 4, 'reg, element');
  assertClose(e.cls, CLS / (4 * C), 'cls, element');
  assertClose(e.obj, OBJ / 4, 'obj, element');
});

test('paper: the loss is a mean over images of per-image losses', () => {
  const other = TEACHER.map((v, i) => (i % K === 4 ? -v : v * 0.5)); // another teacher image
  const student = TEACHER.map((v, i) => Math.cos(i) * 0.7);
  const a = run(map(student), map(TEACHER)).total;
  const b = run(map(student), map(other)).total;
  const both = run(map([...student, ...student], 2), map([...TEACHER, ...other], 2)).total;
  assertClose(both, (a + b) / 2, 'batch of two');
});

test('paper: gradient flows to the student only and matches finite differences', () => {
  const s0 = Array.from({ length: 4 * K }, (_, i) => Math.sin(i * 0.9));
  const s = tf.variable(map(s0));
  const t = tf.variable(map(TEACHER));
  const lossOf = (x: tf.Tensor4D) => fineGrainedPaperDistill([x], [t as unknown as tf.Tensor4D], C).total;
  const { grads } = tf.variableGrads(() => lossOf(s as unknown as tf.Tensor4D), [s, t]);
  assertNoGradient(grads, t);
  const g = grads[s.name].dataSync();
  const eps = 1e-2;
  for (const i of [0, 4, 2 * K + 2, 2 * K + 6, 3 * K + 1, 3 * K + 4]) {
    const at = (d: number) => tf.tidy(() => lossOf(map(s0.map((v, j) => (j === i ? v + d : v)))).dataSync()[0]);
    assertClose(g[i], (at(eps) - at(-eps)) / (2 * eps), `d/d s[${i}]`, 2e-3);
  }
  // a suppressed candidate's box and class channels get no gradient: its objectness is 0
  for (const k of [0, 1, 2, 3, 5, 6]) assertClose(g[k], 0, `d/d s[0][${k}]`);
  tf.dispose([s, t, ...Object.values(grads).filter((x) => x !== null)]);
});

test('paper: a suppressed candidate is left alone by default, and taught "no object" with suppressed: background', () => {
  // cell 0 is a confident teacher candidate (objectness 3/4) that FM-NMS suppresses in favour of
  // cell 3: with 'background' the term pulls the student's objectness there toward 0, where the
  // teacher itself says 3/4 (and the ground truth may say 1)
  const student = zeros();
  const background = run(student, map(TEACHER), { suppressed: 'background' });
  const ignored = run(student, map(TEACHER));
  assertClose(ignored.obj, 2 * LN2, 'obj over the two kept cells only'); // BCE(0, q) = ln 2 for any q
  assertClose(ignored.reg, REG, 'reg: o = 0 on suppressed cells either way');
  assertClose(ignored.cls, CLS, 'cls');
  assertClose(background.obj - ignored.obj, 2 * LN2, 'the suppressed cells\' objectness terms');
  const objGradient = (options?: PaperDistillOptions) => {
    const s = tf.variable(zeros());
    const { grads } = tf.variableGrads(() => fineGrainedPaperDistill([s as unknown as tf.Tensor4D], [map(TEACHER)], C, options).total, [s]);
    const g = grads[s.name].dataSync();
    const byCell = [0, 1, 2, 3].map((cell) => g[cell * K + 4]);
    tf.dispose([s, grads[s.name]]);
    return byCell;
  };
  // d BCE(s, q)/ds = sig(s) - q: at s = 0, 1/2 toward 0 on the suppressed cells, 1/2 - o on the kept ones
  const dBackground = objGradient({ suppressed: 'background' });
  const dIgnored = objGradient();
  for (const cell of [0, 1]) {
    assertClose(dBackground[cell], 0.5, `background: cell ${cell} pushed toward objectness 0`);
    assertClose(dIgnored[cell], 0, `ignored: cell ${cell} gets no gradient`);
  }
  for (const cell of [2, 3]) {
    assertClose(dBackground[cell], 0.5 - O[cell], `kept cell ${cell}`);
    assertClose(dIgnored[cell], dBackground[cell], `kept cell ${cell}, ignored`);
  }
});
