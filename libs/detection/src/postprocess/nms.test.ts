import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@kd/engine';
import type { HeadSpec } from '../model/yolov3.ts';
import { postprocess } from './decode.ts';
import { multiclassNms } from './nms.ts';

const options = { scoreThreshold: 0.01, nmsTopK: 1000, keepTopK: 100, nmsThreshold: 0.45, normalized: false };

test('NMS suppresses same-class overlaps above the threshold (+1 pixel IoU), per class', () => {
  // boxes 0 and 1: IoU = 100/(121+121-100) with +1 areas... [0,0,10,10] vs [0,0,10,9]: inter 11*10=110, union 121 -> 0.909
  // box 2 overlaps box 0 by [5..10]x[0..10]: inter 6*11=66, union 121+121-66=176 -> 0.375 (kept)
  const boxes = Float32Array.from([0, 0, 10, 10, 0, 0, 10, 9, 5, 0, 15, 10, 100, 100, 110, 110]);
  const scores = Float32Array.from([
    0.9, 0.0,
    0.8, 0.7, // class 1 keeps box 1 since nothing of class 1 scores higher over it
    0.6, 0.0,
    0.005, 0.0, // below the score threshold
  ]);
  const kept = multiclassNms(boxes, scores, 2, options);
  assert.deepEqual(kept.map((d) => [d.classId, Math.round(d.score * 10) / 10, d.bbox[0]]), [[0, 0.9, 0], [1, 0.7, 0], [0, 0.6, 5]]);
  // with a 0.3 threshold box 2 (IoU 0.375 with box 0) goes too
  assert.equal(multiclassNms(boxes, scores, 2, { ...options, nmsThreshold: 0.3 }).length, 2);
  // keepTopK bounds the total; nmsTopK bounds each class before suppression
  assert.equal(multiclassNms(boxes, scores, 2, { ...options, keepTopK: 1 }).length, 1);
  assert.deepEqual(multiclassNms(boxes, scores, 2, { ...options, nmsTopK: 1 }).map((d) => d.score), [Math.fround(0.9), Math.fround(0.7)]);
});

test('postprocess decodes a confident prediction to the original image pixels', async () => {
  await initBackend('cpu');
  const spec: HeadSpec = { numClasses: 1, strides: [32, 16, 8], anchors: [[10, 13], [16, 30], [33, 23], [30, 61], [62, 45], [59, 119], [116, 90], [156, 198], [373, 326]], anchorMasks: [[6, 7, 8], [3, 4, 5], [0, 1, 2]] };
  // input 64: maps 2, 4, 8; everything at logit -10 except scale 2, cell (row 4, col 2), anchor 1 (16x30)
  const outputs = [2, 4, 8].map((h) => {
    const data = new Float32Array(h * h * 18).fill(-10);
    if (h === 8) {
      const base = (4 * 8 + 2) * 18 + 6;
      data.set([0, 0, 0, 0, 10, 10], base); // x, y at sigmoid 0.5, w, h = anchor, obj and class confident
    }
    return tf.tensor4d(data, [1, h, h, 18]);
  });
  const [detections] = await postprocess(outputs, spec, 64, [{ width: 640, height: 320 }], options);
  assert.equal(detections.length, 1);
  // centre (2.5/8, 4.5/8) = (0.3125, 0.5625), size (16/64, 30/64); in a 640x320 image
  const expected = [(0.3125 - 0.125) * 640, (0.5625 - 30 / 128) * 320, (0.3125 + 0.125) * 640, (0.5625 + 30 / 128) * 320];
  detections[0].bbox.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-3, `${v} vs ${expected[i]}`));
  assert.ok(Math.abs(detections[0].score - (1 / (1 + Math.exp(-10))) ** 2) < 1e-6);
  tf.dispose(outputs);
});
