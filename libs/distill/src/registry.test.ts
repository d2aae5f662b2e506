import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initBackend } from '@kd/engine';
import * as tf from '@tensorflow/tfjs-core';
import type { HeadSpec } from '@kd/detection';
import './register-all.ts';
import { fineGrainedDistill } from './fine_grained.ts';
import { fineGrainedPaperDistill } from './fine_grained_paper.ts';
import { l2Distill } from './l2.ts';
import { createDistillLoss, distillLossNames, getDistillLoss, resolveDistillOptions } from './registry.ts';
import { assertClose } from './testing.ts';

await initBackend('cpu');

const spec: HeadSpec = {
  numClasses: 2,
  strides: [32, 16, 8],
  anchors: [[10, 13], [16, 30], [33, 23], [30, 61], [62, 45], [59, 119], [116, 90], [156, 198], [373, 326]],
  anchorMasks: [[6, 7, 8], [3, 4, 5], [0, 1, 2]],
};
const outputs = (seed: number) => [1, 2, 4].map((h) => tf.randomNormal([1, h, h, 21], 0, 2, 'float32', seed + h) as tf.Tensor4D);
const student = outputs(1);
const teacher = outputs(100);
const value = (r: { total: tf.Scalar }) => r.total.dataSync()[0];

test('the built-ins are registered with their inputs and defaults', () => {
  assert.deepEqual(distillLossNames(), ['l2', 'fine_grained', 'fine_grained_paper']);
  assert.deepEqual(getDistillLoss('l2').inputs, ['student', 'teacher']);
  assert.deepEqual(getDistillLoss('fine_grained').inputs, ['student', 'teacher', 'spec']);
  assert.deepEqual(resolveDistillOptions(getDistillLoss('l2'), {}), { weight: 100 });
  assert.deepEqual(resolveDistillOptions(getDistillLoss('fine_grained'), {}), { weight: 1000 });
  assert.deepEqual(resolveDistillOptions(getDistillLoss('fine_grained_paper'), { lambda_D: 0.5 }), { lambda_D: 0.5, weight: 1, reduction: 'image', suppressed: 'ignored' });
});

test('created losses equal the plain functions with the same options', () => {
  const inputs = { student, teacher, spec };
  assertClose(value(createDistillLoss('l2')(inputs)), value(l2Distill(student, teacher, 100)), 'l2');
  assertClose(value(createDistillLoss('l2', { weight: 7 })(inputs)), value(l2Distill(student, teacher, 7)), 'l2, weight 7');
  assertClose(value(createDistillLoss('fine_grained')(inputs)), value(fineGrainedDistill(student, teacher, 2)), 'fine_grained');
  assertClose(
    value(createDistillLoss('fine_grained_paper', { lambda_D: 2, reduction: 'element' })(inputs)),
    value(fineGrainedPaperDistill(student, teacher, 2, { lambdaD: 2, reduction: 'element' })),
    'fine_grained_paper',
  );
});

test('config errors name the key', () => {
  const fails = (f: () => unknown, message: string) => assert.throws(f, { name: 'DistillConfigError', message });
  fails(() => createDistillLoss('l3'), 'distill.method: "l3" is not one of l2, fine_grained, fine_grained_paper');
  fails(() => createDistillLoss('l2', { tau: 2 }), 'distill.tau: not an option of l2 (options: weight)');
  fails(() => createDistillLoss('l2', { weight: 'big' }), 'distill.weight: "big" is not a finite number');
  fails(() => createDistillLoss('fine_grained_paper', { lambda_D: -1 }), 'distill.lambda_D: -1 is below the minimum 0');
  fails(() => createDistillLoss('fine_grained_paper', { reduction: 'sum' }), 'distill.reduction: "sum" is not one of image, element');
  fails(() => createDistillLoss('l2', { weight: 1, tau: 2 }, 'kd.distill'), 'kd.distill.tau: not an option of l2 (options: weight)');
});

test('a loss that needs the spec says so; outputs that do not fit the spec are named', () => {
  assert.throws(() => createDistillLoss('fine_grained')({ student, teacher }), {
    name: 'DistillConfigError',
    message: 'distill.method: fine_grained needs input "spec", which was not given',
  });
  assert.throws(() => createDistillLoss('fine_grained')({ student, teacher, spec: { ...spec, numClasses: 20 } }), {
    name: 'HeadPairingError',
    message: /student scale 0 \(stride 32\): shape \[1,1,1,21\], spec says \[N,H,W,3\*\(5\+20\)=75\]/,
  });
});
