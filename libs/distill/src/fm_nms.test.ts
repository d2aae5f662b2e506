import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initBackend } from '@kd/engine';
import * as tf from '@tensorflow/tfjs-core';
import { fmNmsKeep } from './fm_nms.ts';

await initBackend('cpu');

const C = 2;
/** An anchor block [x, y, w, h, obj, cls_0, cls_1] of class `k` with objectness logit `obj`. */
const candidate = (obj: number, k: 0 | 1) => [0, 0, 0, 0, obj, k === 0 ? 1 : 0, k === 1 ? 1 : 0];

test('FM-NMS: the lower of two neighbouring same-class candidates is suppressed, a far one kept', () => {
  // objectness logits of a 4x4 map, one anchor; all class 0 except (1,1), which is class 1
  const obj = [
    [2, 1, -4, -4],
    [-4, 0.5, -4, -4],
    [-4, -4, -4, -4],
    [-4, -4, -4, 0.5],
  ];
  const values = obj.flatMap((row, i) => row.flatMap((o, j) => candidate(o, i === 1 && j === 1 ? 1 : 0)));
  const keep = fmNmsKeep(tf.tensor4d(values, [1, 4, 4, 7]), C);
  // (0,0) beats its neighbours (0,1), (1,0); (0,1) in turn suppresses (0,2), (1,2); the far
  // (3,3) survives and suppresses its neighbours; (1,1) is the only class-1 candidate, so it
  // survives next to the stronger (0,0). Background cells whose neighbourhood holds only equal
  // logits (-4) tie with themselves and are kept (their objectness, sig(-4), is small anyway).
  assert.deepEqual(keep.arraySync(), [[
    [[1], [0], [0], [1]],
    [[0], [1], [0], [1]],
    [[1], [1], [0], [0]],
    [[1], [1], [0], [1]],
  ]]);
});

test("FM-NMS: anchors compete across the neighbourhood, classes and images don't", () => {
  // 1x2 map, two anchors. Image 0: class 0 at cell 0 anchor 0 (1) loses to cell 1 anchor 1 (2);
  // class 1 at cell 0 anchor 1 (-9) loses to cell 1 anchor 0 (-8). Image 1: all class 0 at 5,
  // which must not reach image 0.
  const image0 = [...candidate(1, 0), ...candidate(-9, 1), ...candidate(-8, 1), ...candidate(2, 0)];
  const image1 = [...candidate(5, 0), ...candidate(5, 0), ...candidate(5, 0), ...candidate(5, 0)];
  const keep = fmNmsKeep(tf.tensor4d([...image0, ...image1], [2, 1, 2, 14]), C);
  assert.deepEqual(keep.arraySync(), [[[[0, 0], [1, 1]]], [[[1, 1], [1, 1]]]]);
});

test('FM-NMS compares logits, so confident neighbours do not tie at sigmoid = 1', () => {
  // sig(20) and sig(25) are both 1 in float32
  const keep = fmNmsKeep(tf.tensor4d([...candidate(20, 0), ...candidate(25, 0)], [1, 1, 2, 7]), C);
  assert.deepEqual([...keep.dataSync()], [0, 1]);
});
