import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../random.ts';
import { resizeBilinear, pickSize, PPDET_TRAIN_SIZES } from './resize.ts';
import { assembleEvalBatch, assembleTrainBatch } from './batch.ts';
import { augmentSample, AUGMENT_DEFAULTS } from './pipeline.ts';
import { gridSample } from './test_helpers.ts';

const channel0 = (a: Float32Array) => [...a].filter((_, i) => i % 3 === 0);

test('bilinear resize uses half-pixel centres and clamps at the borders (OpenCV)', () => {
  const up = resizeBilinear(Float32Array.from([0, 0, 0, 100, 100, 100]), 2, 1, 4, 1);
  assert.deepEqual(channel0(up), [0, 25, 75, 100]);
  const down = resizeBilinear(Float32Array.from([0, 0, 0, 10, 0, 0, 20, 0, 0, 30, 0, 0]), 4, 1, 2, 1);
  assert.deepEqual(channel0(down), [5, 25]);
  // 2 x 2 -> 1 x 1 is the mean of the four.
  assert.deepEqual(channel0(resizeBilinear(Uint8Array.from([0, 0, 0, 10, 0, 0, 20, 0, 0, 30, 0, 0]), 2, 2, 1, 1)), [15]);
});

test('pickSize draws every PaddleDetection size, one per call', () => {
  const r = new Rng(1);
  const seen = new Set(Array.from({ length: 300 }, () => pickSize(r, PPDET_TRAIN_SIZES)));
  assert.deepEqual([...seen].sort((a, b) => a - b), [...PPDET_TRAIN_SIZES]);
});

test('train batch: normalised cx, cy, w, h; padding rows zero with score 0; zero-area boxes dropped; at most maxBoxes', () => {
  const a = gridSample(4, 2, [0, 0, 2, 2, 1, 1, 1, 2, 2, 0, 4, 1]); // second box has zero width
  a.scores.set([1, 1, 0.25]);
  const many = gridSample(4, 4, Array.from({ length: 6 }, (_, k) => [0, 0, k + 1, 1]).flat(), 'many');
  const b = assembleTrainBatch([a, many], 8, 4);
  assert.deepEqual(b.ids, ['grid', 'many']);
  assert.equal(b.images.length, 2 * 8 * 8 * 3);
  assert.deepEqual([...b.gtBox.subarray(0, 16)], [0.25, 0.5, 0.5, 1, 0.75, 0.25, 0.5, 0.5, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...b.gtClass.subarray(0, 4)], [0, 2, 0, 0]);
  assert.deepEqual([...b.gtScore.subarray(0, 4)], [1, 0.25, 0, 0]);
  // Six boxes, four kept: the first four.
  assert.deepEqual([...b.gtClass.subarray(4, 8)], [0, 1, 2, 3]);
  assert.deepEqual([...b.gtBox.subarray(16 + 12, 16 + 16)], [0.5, 0.125, 1, 0.25]);
  // Pixel (0, 0) of image 0 is [0, 1, 2] -> normalised.
  assert.ok(Math.abs(b.images[0] - (0 - 0.485) / 0.229) < 1e-5);
});

test('eval batch keeps the original sizes', () => {
  const e = assembleEvalBatch([gridSample(5, 3), gridSample(2, 7)], 4);
  assert.deepEqual([...e.origWidth], [5, 2]);
  assert.deepEqual([...e.origHeight], [3, 7]);
  assert.equal(e.images.length, 2 * 4 * 4 * 3);
});

test('the full augmentation is deterministic for a seed, and boxes stay valid', () => {
  const a = gridSample(40, 30, [2, 2, 12, 12, 20, 10, 38, 28], 'a');
  const b = gridSample(30, 40, [5, 5, 25, 35], 'b');
  const run = (seed: number) => augmentSample(a, b, new Rng(seed), AUGMENT_DEFAULTS);
  const x = run(12);
  const y = run(12);
  assert.deepEqual([x.width, x.height, [...x.boxes], [...x.scores]], [y.width, y.height, [...y.boxes], [...y.scores]]);
  assert.deepEqual(x.pixels, y.pixels);
  const outputs = new Set<string>();
  for (let seed = 0; seed < 30; seed++) {
    const s = run(seed);
    outputs.add(`${s.width}x${s.height}:${[...s.boxes].join(',')}`);
    for (let k = 0; k < s.boxes.length; k += 4) {
      const [x1, y1, x2, y2] = s.boxes.subarray(k, k + 4);
      assert.ok(x1 >= 0 && y1 >= 0 && x2 <= s.width && y2 <= s.height && x2 > x1 && y2 > y1, `seed ${seed}`);
    }
  }
  assert.ok(outputs.size > 25, `only ${outputs.size} distinct outputs of 30 seeds`);
});
