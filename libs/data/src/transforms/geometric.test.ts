import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../random.ts';
import { flipHorizontal, randomFlip } from './random_flip.ts';
import { expandTo, randomExpand, RANDOM_EXPAND_DEFAULTS } from './random_expand.ts';
import { cropWindow, randomCrop } from './random_crop.ts';
import { edgesToVoc, vocToEdges } from './boxes.ts';
import { gridSample, px } from './test_helpers.ts';

test('flip of a 4x3 image mirrors each row; a box on column 0 moves to column 3', () => {
  // VOC box on column 0, rows 0..2: xmin=1, xmax=1 -> edges [0, 0, 1, 3].
  const s = gridSample(4, 3, [...vocToEdges([1, 1, 1, 3]), 1, 0, 3, 2]);
  const f = flipHorizontal(s);
  assert.deepEqual(px(f, 0, 0), [30, 31, 32]);
  assert.deepEqual(px(f, 3, 0), [0, 1, 2]);
  assert.deepEqual(px(f, 1, 2), [220, 221, 222]);
  assert.deepEqual([...f.boxes], [3, 0, 4, 3, 1, 0, 3, 2]);
  // Back in VOC terms: column 3 is xmin = xmax = 4 (ppdet: w - x2 - 1 on 0-based corners, the same pixel).
  assert.deepEqual(edgesToVoc([3, 0, 4, 3]), [4, 1, 4, 3]);
  assert.ok(f.pixels instanceof Uint8Array);
  assert.deepEqual(flipHorizontal(f).pixels, s.pixels);
});

test('randomFlip flips about half the time, the same way for the same seed', () => {
  const s = gridSample(4, 3, [0, 0, 1, 3]);
  let flipped = 0;
  for (let seed = 0; seed < 400; seed++) if (randomFlip(s, new Rng(seed)).boxes[0] === 3) flipped++;
  assert.ok(flipped > 160 && flipped < 240, `flipped ${flipped} of 400`);
  assert.deepEqual(randomFlip(s, new Rng(9)).boxes, randomFlip(s, new Rng(9)).boxes);
});

test('expand puts the image at the offset on a mean-coloured canvas and shifts boxes', () => {
  const s = gridSample(2, 2, [0, 0, 1, 2]);
  const e = expandTo(s, 4, 3, 1, 1, RANDOM_EXPAND_DEFAULTS.fill);
  assert.equal(e.width, 4);
  assert.equal(e.height, 3);
  assert.deepEqual(px(e, 1, 1), [0, 1, 2]);
  assert.deepEqual(px(e, 2, 2), [110, 111, 112]);
  const fill = [...px(e, 0, 0)];
  [123.675, 116.28, 103.53].forEach((v, c) => assert.ok(Math.abs(fill[c] - v) < 1e-4));
  assert.deepEqual([...e.boxes], [1, 1, 2, 3]);
});

test('randomExpand: boxes still frame the same pixels, canvas up to 4x, skipped about half the time', () => {
  const s = gridSample(10, 8, [2, 3, 5, 7]);
  let expanded = 0;
  for (let seed = 0; seed < 200; seed++) {
    const e = randomExpand(s, new Rng(seed));
    if (e === s) continue;
    expanded++;
    assert.ok(e.width > 10 && e.width < 40 && e.height > 8 && e.height < 32);
    const [x1, y1] = e.boxes;
    assert.ok(Number.isInteger(x1) && Number.isInteger(y1));
    // Pixel (2, 3) of the original (top-left of the box) is at the box's new top-left.
    assert.deepEqual(px(e, x1, y1), px(s, 2, 3));
    assert.equal(e.boxes[2] - x1, 3);
    assert.equal(e.boxes[3] - y1, 4);
  }
  assert.ok(expanded > 70 && expanded < 130, `expanded ${expanded} of 200`);
});

test('cropWindow keeps boxes whose centre is inside (half-open), clipped and shifted', () => {
  const s = gridSample(100, 100, [
    10, 10, 30, 30, // centre (20, 20): kept as is, shifted
    40, 40, 70, 70, // centre (55, 55): outside, dropped
    50, 5, 70, 20, // centre (60, 12.5): outside, dropped
    0, 20, 25, 60, // centre (12.5, 40): inside, clipped on the left to x = 5
    20, 40, 49, 60, // centre (34.5, 50): y = 50 is the window's bottom edge, excluded
  ]);
  const c = cropWindow(s, [5, 0, 55, 50])!;
  assert.equal(c.width, 50);
  assert.equal(c.height, 50);
  assert.deepEqual([...c.boxes], [5, 10, 25, 30, 0, 20, 20, 50]);
  assert.deepEqual([...c.classes], [0, 3]);
  assert.deepEqual(px(c, 0, 0), px(s, 5, 0));
  assert.equal(cropWindow(s, [80, 0, 100, 20]), null);
});

test('randomCrop: same seed same crop; crops keep at least one box and stay inside the image', () => {
  const s = gridSample(60, 40, [5, 5, 15, 15, 30, 10, 55, 35]);
  const a = randomCrop(s, new Rng(4));
  const b = randomCrop(s, new Rng(4));
  assert.deepEqual([a.width, a.height, [...a.boxes]], [b.width, b.height, [...b.boxes]]);
  let cropped = 0;
  for (let seed = 0; seed < 100; seed++) {
    const c = randomCrop(s, new Rng(seed));
    if (c === s) continue;
    cropped++;
    assert.ok(c.width <= 60 && c.height <= 40 && c.boxes.length >= 4);
    for (let k = 0; k < c.boxes.length; k += 4) {
      const [x1, y1, x2, y2] = c.boxes.subarray(k, k + 4);
      assert.ok(x1 >= 0 && y1 >= 0 && x2 <= c.width && y2 <= c.height && x2 > x1 && y2 > y1, `seed ${seed}: box ${[x1, y1, x2, y2]}`);
    }
  }
  // "no crop" is one of 7 choices, and thresholds can fail; most draws still crop.
  assert.ok(cropped > 50, `cropped ${cropped} of 100`);
  const empty = gridSample(10, 10);
  assert.equal(randomCrop(empty, new Rng(1)), empty);
});
