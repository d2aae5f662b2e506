import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initBackend } from '@kd/engine';
import * as tf from '@tensorflow/tfjs-core';
import type { HeadSpec } from '@kd/detection';
import { alignTeacherOutputs, checkHeadPairing, checkOutputLayout, HeadPairingError } from './pairing.ts';

await initBackend('cpu');

const VOC: HeadSpec = {
  numClasses: 20,
  strides: [32, 16, 8],
  anchors: [[10, 13], [16, 30], [33, 23], [30, 61], [62, 45], [59, 119], [116, 90], [156, 198], [373, 326]],
  anchorMasks: [[6, 7, 8], [3, 4, 5], [0, 1, 2]],
};
const withSpec = (change: Partial<HeadSpec>): HeadSpec => ({ ...structuredClone(VOC), ...change });

/** The HeadPairingError's list of differences (fails if another error or none is thrown). */
function differences(student: HeadSpec, teacher: HeadSpec): string[] {
  try {
    checkHeadPairing(student, teacher);
  } catch (e) {
    assert.ok(e instanceof HeadPairingError, String(e));
    assert.equal(e.message, `student/teacher heads do not pair: ${e.differences.join('; ')}`);
    return e.differences;
  }
  assert.fail('heads paired');
}

test('identical heads pair scale by scale', () => {
  assert.deepEqual(checkHeadPairing(VOC, VOC), {
    pairs: [{ stride: 32, student: 0, teacher: 0 }, { stride: 16, student: 1, teacher: 1 }, { stride: 8, student: 2, teacher: 2 }],
    teacherOrder: [0, 1, 2],
  });
});

test('heads are matched by stride, not position', () => {
  const teacher = withSpec({ strides: [8, 16, 32], anchorMasks: [[0, 1, 2], [3, 4, 5], [6, 7, 8]] });
  const pairing = checkHeadPairing(VOC, teacher);
  assert.deepEqual(pairing.teacherOrder, [2, 1, 0]);
  assert.deepEqual(alignTeacherOutputs(pairing, ['t8', 't16', 't32']), ['t32', 't16', 't8']);
});

test('a different class count names both counts and the channel layout per stride', () => {
  assert.deepEqual(differences(withSpec({ numClasses: 8 }), VOC), [
    'num classes: teacher 20, student 8',
    'stride 32: teacher channels 75 = 3*(5+20) vs student 39 = 3*(5+8)',
    'stride 16: teacher channels 75 = 3*(5+20) vs student 39 = 3*(5+8)',
    'stride 8: teacher channels 75 = 3*(5+20) vs student 39 = 3*(5+8)',
  ]);
});

test('different anchors name the stride, both anchor sets and masks', () => {
  const student = withSpec({ anchors: VOC.anchors.map(([w, h], i) => (i === 4 ? [64, 45] : [w, h])) });
  assert.deepEqual(differences(student, VOC), [
    'stride 16: teacher anchors [[30,61],[62,45],[59,119]] (mask [3,4,5]) vs student [[30,61],[64,45],[59,119]] (mask [3,4,5])',
  ]);
  // the same anchors listed in another order pair fine: what matters is the anchor, not its index
  const reordered = withSpec({ anchors: [...VOC.anchors.slice(6), ...VOC.anchors.slice(0, 6)], anchorMasks: [[0, 1, 2], [6, 7, 8], [3, 4, 5]] });
  assert.deepEqual(checkHeadPairing(reordered, VOC).teacherOrder, [0, 1, 2]);
});

test('a missing stride and a different anchor count are named', () => {
  const student = withSpec({ strides: [32, 16, 4], anchorMasks: [[6, 7, 8], [3, 4], [0, 1, 2]] });
  assert.deepEqual(differences(student, VOC), [
    'stride 16: teacher anchors [[30,61],[62,45],[59,119]] (mask [3,4,5]) vs student [[30,61],[62,45]] (mask [3,4])',
    'stride 16: teacher channels 75 = 3*(5+20) vs student 50 = 2*(5+20)',
    'stride 4: student has it, teacher has none (teacher strides 32, 16, 8)',
    'stride 8: teacher has it, student has none (student strides 32, 16, 4)',
  ]);
});

test('a spec that is inconsistent in itself is reported before pairing', () => {
  assert.deepEqual(differences(withSpec({ anchorMasks: [[6, 7, 9], [3, 4, 5]] }), VOC), [
    'student: 3 strides but 2 anchor masks',
    'student stride 32: mask [6,7,9] points outside its 9 anchors',
  ]);
});

test('checkOutputLayout compares outputs with the spec', () => {
  const spec = withSpec({ numClasses: 2 });
  const ok = [2, 4, 8].map((h) => tf.zeros([1, h, h, 21]));
  checkOutputLayout(ok, spec);
  const bad = [ok[0], tf.zeros([1, 4, 4, 75]), ok[2]];
  assert.throws(() => checkOutputLayout(bad, spec, 'teacher'), {
    name: 'HeadPairingError',
    message: 'student/teacher heads do not pair: teacher scale 1 (stride 16): shape [1,4,4,75], spec says [N,H,W,3*(5+2)=21]',
  });
  tf.dispose([...ok, bad[1]]);
});
