import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@kd/engine';
import type { HeadSpec } from '../model/yolov3.ts';
import { ignoreMask } from './ignore_mask.ts';
import { buildTargets, type GroundTruthBatch } from './targets.ts';
import { yoloV3Loss } from './yolov3_loss.ts';

await initBackend('cpu');

const spec: HeadSpec = {
  numClasses: 2,
  strides: [32, 16, 8],
  anchors: [[10, 13], [16, 30], [33, 23], [30, 61], [62, 45], [59, 119], [116, 90], [156, 198], [373, 326]],
  anchorMasks: [[6, 7, 8], [3, 4, 5], [0, 1, 2]],
};
const INPUT = 64; // maps of 2x2, 4x4, 8x8

/** Image 0 holds one GT of class 1 at (0.3, 0.6), 0.25 x 0.5 (16 x 32 px); image 1 none. */
function groundTruth(score = 1): GroundTruthBatch {
  const gtBox = new Float32Array(2 * 3 * 4);
  gtBox.set([0.3, 0.6, 0.25, 0.5], 0);
  const gtScore = new Float32Array(6);
  gtScore[0] = score;
  return { batch: 2, maxBoxes: 3, gtBox, gtClass: Int32Array.from([1, 0, 0, 0, 0, 0]), gtScore };
}

const zeroOutputs = () => [2, 4, 8].map((h) => tf.zeros([2, h, h, 3 * 7]) as tf.Tensor4D);

test('a GT goes to the best of all 9 anchors (16x30, scale 8) in cell floor(g*W), with hand-computed targets', () => {
  // shape IoU of 16x32 with 16x30 is 480/512 = 0.9375, the best of the nine
  const targets = buildTargets(groundTruth(), INPUT, spec, false);
  assert.equal(targets[0].positive.reduce((a, b) => a + b), 0);
  assert.equal(targets[1].positive.reduce((a, b) => a + b), 0);
  const t = targets[2];
  const i = ((0 * 8 + 4) * 8 + 2) * 3 + 1; // image 0, gj = floor(0.6*8) = 4, gi = floor(0.3*8) = 2, anchor 1 of mask
  assert.equal(t.positive.reduce((a, b) => a + b), 1);
  assert.equal(t.positive[i], 1);
  assert.ok(Math.abs(t.tx[i] - 0.4) < 1e-6);
  assert.ok(Math.abs(t.ty[i] - 0.8) < 1e-6);
  assert.ok(Math.abs(t.tw[i] - Math.log(16 / 16)) < 1e-6);
  assert.ok(Math.abs(t.th[i] - Math.log(32 / 30)) < 1e-6);
  assert.ok(Math.abs(t.boxScale[i] - (2 - 0.125)) < 1e-6);
  assert.deepEqual([...t.tcls.subarray(i * 2, i * 2 + 2)], [0, 1]);
  const smooth = buildTargets(groundTruth(), INPUT, spec, true)[2];
  assert.deepEqual([...smooth.tcls.subarray(i * 2, i * 2 + 2)], [Math.fround(1 / 40), Math.fround(1 - 1 / 40)]);
  assert.equal(smooth.tcls[0], Math.fround(1 / 40));
});

test('loss parts on zero outputs match the hand-computed values', () => {
  // every BCE(0, q) is ln 2; 252 predictions per image, the positive one not counted as negative
  const outputs = zeroOutputs();
  const loss = yoloV3Loss(outputs, groundTruth(), spec, { inputSize: INPUT, ignoreThresh: 0.7, labelSmooth: false });
  const ln2 = Math.log(2);
  const expected = {
    xy: (1.875 * 2 * ln2) / 2,
    wh: (1.875 * Math.log(32 / 30)) / 2,
    obj: (252 * ln2 + 252 * ln2) / 2,
    cls: (2 * ln2) / 2,
  };
  for (const key of ['xy', 'wh', 'obj', 'cls'] as const) {
    assert.ok(Math.abs(loss[key].dataSync()[0] - expected[key]) < 1e-4, `${key}: ${loss[key].dataSync()[0]} vs ${expected[key]}`);
  }
  const sum = expected.xy + expected.wh + expected.obj + expected.cls;
  assert.ok(Math.abs(loss.total.dataSync()[0] - sum) < 1e-3);
  // a mixup score of 0.5 halves the positive terms: xy, wh, cls and the positive's objectness
  const half = yoloV3Loss(outputs, groundTruth(0.5), spec, { inputSize: INPUT, ignoreThresh: 0.7, labelSmooth: false });
  assert.ok(Math.abs(half.xy.dataSync()[0] - expected.xy / 2) < 1e-4);
  assert.ok(Math.abs(half.obj.dataSync()[0] - (251.5 * ln2 + 252 * ln2) / 2) < 1e-4);
  tf.dispose([...outputs, ...Object.values(loss), ...Object.values(half)]);
});

test('the ignore mask marks predictions whose decoded box has IoU > thresh with a GT', () => {
  // on zero outputs the prediction at the GT's own cell/anchor decodes to a 0.25 x 0.469 box
  // centred (0.3125, 0.5625): IoU 0.78 with the GT; every other prediction is below 0.5
  const raw = new Float32Array(2 * 8 * 8 * 3 * 7);
  const anchors: Array<[number, number]> = [[10, 13], [16, 30], [33, 23]];
  const at = (thresh: number) => ignoreMask(raw, [2, 8, 8, 21], 2, groundTruth(), anchors, INPUT, thresh);
  const mask = at(0.7);
  assert.equal(mask.reduce((a, b) => a + b), 1);
  assert.equal(mask[((0 * 8 + 4) * 8 + 2) * 3 + 1], 1);
  assert.equal(at(0.79).reduce((a, b) => a + b), 0);
});

test('gradients flow through the loss (not the ignore mask) and descent lowers it', () => {
  const outputs = [2, 4, 8].map((h) => tf.variable(tf.zeros([2, h, h, 21])));
  const gt = groundTruth();
  const options = { inputSize: INPUT, ignoreThresh: 0.7, labelSmooth: false };
  const lossValue = () => yoloV3Loss(outputs as unknown as tf.Tensor4D[], gt, spec, options).total;
  const first = tf.tidy(() => lossValue().dataSync()[0]);
  for (let step = 0; step < 5; step++) {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(lossValue);
      for (const v of outputs) v.assign(tf.sub(v, tf.mul(grads[v.name], 0.5)));
    });
  }
  const last = tf.tidy(() => lossValue().dataSync()[0]);
  assert.ok(last < first * 0.7, `loss ${first} -> ${last}`);
  tf.dispose(outputs);
});

test('unlabeled images get no detection loss and do not count in the batch mean', () => {
  // image 1 has no GT; marked unlabeled, its 252 negatives drop out and the mean is over image 0 only
  const outputs = zeroOutputs();
  const gt = { ...groundTruth(), labeled: Uint8Array.from([1, 0]) };
  const loss = yoloV3Loss(outputs, gt, spec, { inputSize: INPUT, ignoreThresh: 0.7, labelSmooth: false });
  const ln2 = Math.log(2);
  assert.ok(Math.abs(loss.obj.dataSync()[0] - 252 * ln2) < 1e-3);
  assert.ok(Math.abs(loss.xy.dataSync()[0] - 1.875 * 2 * ln2) < 1e-4);
  const none = yoloV3Loss(outputs, { ...groundTruth(), labeled: Uint8Array.from([0, 0]) }, spec, { inputSize: INPUT, ignoreThresh: 0.7, labelSmooth: false });
  assert.equal(none.total.dataSync()[0], 0);
  tf.dispose([...outputs, ...Object.values(loss), ...Object.values(none)]);
});
