import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../random.ts';
import { blend, mixup } from './mixup.ts';
import { colorDistort, COLOR_DISTORT_DEFAULTS, hueMatrix, type ColorDistortOptions } from './color_distort.ts';
import { normalizeInto } from './normalize.ts';
import { gridSample, px } from './test_helpers.ts';

const close = (actual: ArrayLike<number>, expected: number[], tol = 1e-4) => {
  assert.equal(actual.length, expected.length);
  expected.forEach((v, i) => assert.ok(Math.abs(actual[i] - v) <= tol, `[${i}] ${actual[i]} != ${v}`));
};

test('normalize: (x / 255 - mean) / std per channel', () => {
  const out = new Float32Array(5).fill(9);
  normalizeInto(out, 1, Uint8Array.from([0, 128, 255]));
  // (0 - .485) / .229, (128/255 - .456) / .224, (1 - .406) / .225
  close(out, [9, -2.117904, 0.205182, 2.64, 9]);
});

test('mixup blend: both images on the max canvas, boxes concatenated, scores w and 1 - w', () => {
  const a = gridSample(2, 1, [0, 0, 1, 1], 'a'); // pixels (0,0)=[0,1,2], (1,0)=[10,11,12]
  const b = gridSample(1, 2, [0, 0, 1, 2, 0, 1, 1, 2], 'b'); // (0,0)=[0,1,2], (0,1)=[100,101,102]
  const m = blend(a, b, 0.25);
  assert.equal(m.id, 'a+b');
  assert.deepEqual([m.width, m.height], [2, 2]);
  close(px(m, 0, 0), [0, 1, 2]);
  close(px(m, 1, 0), [2.5, 2.75, 3]);
  close(px(m, 0, 1), [75, 75.75, 76.5]);
  close(px(m, 1, 1), [0, 0, 0]);
  assert.deepEqual([...m.boxes], [0, 0, 1, 1, 0, 0, 1, 2, 0, 1, 1, 2]);
  assert.deepEqual([...m.classes], [0, 0, 1]);
  close(m.scores, [0.25, 0.75, 0.75]);
});

test('mixup draws its weight from Beta(1.5, 1.5); a weight of 1 or 0 returns one image unchanged', () => {
  const a = gridSample(3, 3, [0, 0, 1, 1], 'a');
  const b = gridSample(3, 3, [1, 1, 2, 2], 'b');
  const w = new Rng(3).beta(1.5, 1.5);
  const m = mixup(a, b, new Rng(3));
  close(m.scores, [w, 1 - w], 1e-6);
  assert.deepEqual(mixup(a, b, new Rng(3)).pixels, m.pixels);
  assert.equal(mixup(a, b, new Rng(1), { alpha: 1e3, beta: 1e-3 }), a);
  assert.equal(mixup(a, b, new Rng(1), { alpha: 1e-3, beta: 1e3 }), b);
});

const only = (op: 'hue' | 'saturation' | 'contrast' | 'brightness', low: number, high: number, hueUnit: ColorDistortOptions['hueUnit'] = 'degrees'): ColorDistortOptions => ({
  hue: [0, 0, 1],
  saturation: [1, 1, 1],
  contrast: [1, 1, 1],
  brightness: [0, 0, 1],
  [op]: [low, high, 0], // prob 0: never skipped
  hueUnit,
});

test('each colour op with a fixed delta gives ppdet\'s arithmetic', () => {
  const s = gridSample(1, 1);
  s.pixels.set([200, 100, 50]);
  close(colorDistort(s, new Rng(0), only('contrast', 2, 2)).pixels, [400, 200, 100]);
  close(colorDistort(s, new Rng(0), only('brightness', 1.5, 1.5)).pixels, [201.5, 101.5, 51.5]);
  // saturation 0: every channel becomes the luma .299 R + .587 G + .114 B = 124.2
  close(colorDistort(s, new Rng(0), only('saturation', 0, 0)).pixels, [124.2, 124.2, 124.2]);
  close(colorDistort(s, new Rng(0), only('saturation', 1, 1)).pixels, [200, 100, 50]);
  // hue: degrees by default; ppdet's unit (delta * pi rad) makes 2 a full turn. (YIQ's rounded
  // matrices are not exact inverses: a full turn is off by up to 0.4 grey levels, as in ppdet.)
  close(colorDistort(s, new Rng(0), only('hue', 360, 360)).pixels, [200, 100, 50], 0.5);
  close(colorDistort(s, new Rng(0), only('hue', 2, 2, 'ppdet')).pixels, [200, 100, 50], 0.5);
  const rotated = colorDistort(s, new Rng(0), only('hue', 18, 18)).pixels;
  assert.ok(Math.abs(rotated[0] - 200) > 1 && Math.abs(rotated[0] - 200) < 40, `18 degrees moved R to ${rotated[0]}`);
  // A hue rotation keeps the luma (Y of YIQ).
  const m = hueMatrix(1.3);
  const luma = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;
  const [r, g, b] = [0, 1, 2].map((i) => m[i * 3] * 200 + m[i * 3 + 1] * 100 + m[i * 3 + 2] * 50);
  assert.ok(Math.abs(luma(r, g, b) - luma(200, 100, 50)) < 0.05);
});

test('colorDistort applies each op with probability 1 - prob, in a seeded random order', () => {
  const s = gridSample(1, 1);
  s.pixels.set([100, 100, 100]);
  let applied = 0;
  for (let seed = 0; seed < 400; seed++) if (colorDistort(s, new Rng(seed), { ...only('contrast', 2, 2), contrast: [2, 2, 0.5] }).pixels[0] === 200) applied++;
  assert.ok(applied > 160 && applied < 240, `applied ${applied} of 400`);
  // Brightness then contrast differs from contrast then brightness: both orders must occur.
  const both: ColorDistortOptions = { ...COLOR_DISTORT_DEFAULTS, hue: [0, 0, 1], saturation: [1, 1, 1], brightness: [10, 10, 0], contrast: [2, 2, 0] };
  const outcomes = new Set<number>();
  for (let seed = 0; seed < 50; seed++) outcomes.add(colorDistort(s, new Rng(seed), both).pixels[0]);
  assert.deepEqual([...outcomes].sort((x, y) => x - y), [210, 220]);
  assert.deepEqual(colorDistort(gridSample(3, 2), new Rng(5)).pixels, colorDistort(gridSample(3, 2), new Rng(5)).pixels);
});
