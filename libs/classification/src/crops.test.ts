import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { generateShapesDataset, readVocDataset, type VocDataset, type VocRecord } from '@kd/data';
import { CropBatcher, cropWindow, evalBatches, extractCrops } from './index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kd-crops-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let shapes: VocDataset;

before(async () => {
  const out = join(tmp, 'shapes');
  await generateShapesDataset({ out, train: 8, test: 4, unlabeled: 0, size: 96, seed: 1 });
  shapes = await readVocDataset(out, { split: 'trainval.txt' });
});

test('cropWindow: VOC corners to pixel edges, context per side, clipped and rounded outward', () => {
  // VOC xmin 11..xmax 30 covers pixel columns 10..29: edges [10, 30], 20 wide
  assert.deepEqual(cropWindow([11, 21, 30, 30], 100, 100, 0), [10, 20, 20, 10]);
  assert.deepEqual(cropWindow([11, 21, 30, 30], 100, 100, 0.1), [8, 19, 24, 12]);
  assert.deepEqual(cropWindow([1, 1, 10, 10], 12, 12, 0.5), [0, 0, 12, 12]);
});

test('a box becomes exactly its pixels: two-colour image, one crop per colour', async () => {
  // 40x20: columns 0..19 pure red, 20..39 pure blue (PNG, so no compression noise)
  const w = 40;
  const h = 20;
  const raw = new Uint8Array(w * h * 3);
  for (let p = 0; p < w * h; p++) raw.set((p % w) < 20 ? [255, 0, 0] : [0, 0, 255], p * 3);
  const imagePath = join(tmp, 'two.png');
  await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png().toFile(imagePath);
  const record: VocRecord = {
    id: 'two', imagePath, annotationPath: null, width: w, height: h,
    objects: [
      { name: 'red', bbox: [3, 3, 18, 18], difficult: false, truncated: false },
      { name: 'blue', bbox: [23, 3, 38, 18], difficult: false, truncated: false },
      { name: 'red', bbox: [1, 1, 40, 20], difficult: true, truncated: false },
    ],
  };
  const crops = await extractCrops([record], ['red', 'blue'], { size: 8, context: 0.1 });
  assert.equal(crops.count, 2, 'the difficult object is left out');
  assert.deepEqual([...crops.labels], [0, 1]);
  assert.deepEqual(crops.sources, ['two#0', 'two#1']);
  const n = 8 * 8 * 3;
  const red = crops.pixels.subarray(0, n);
  const blue = crops.pixels.subarray(n, 2 * n);
  for (let i = 0; i < n; i += 3) {
    assert.deepEqual([red[i], red[i + 1], red[i + 2]], [255, 0, 0]);
    assert.deepEqual([blue[i], blue[i + 1], blue[i + 2]], [0, 0, 255]);
  }
  // a missing image is reported and skipped, not fatal
  const missing = await extractCrops([{ ...record, id: 'gone', imagePath: join(tmp, 'gone.png') }], ['red', 'blue'], { size: 8, context: 0 });
  assert.equal(missing.count, 0);
  assert.equal(missing.problems[0].kind, 'missing-file');
});

test('built-in dataset: one crop per non-difficult object, whose centre has its class colour', async () => {
  const crops = await extractCrops(shapes.records, shapes.classes, { size: 32, context: 0.1 });
  const expected = shapes.records.reduce((n, r) => n + r.objects.filter((o) => !o.difficult).length, 0);
  assert.equal(crops.count, expected);
  assert.ok(crops.count > 8);
  assert.equal(crops.pixels.length, crops.count * 32 * 32 * 3);
  // the shape fills the middle of its box: the centre pixel's dominant channels name its colour
  const colourOf = ([r, g, b]: number[]) => (r > 150 && g > 150 && b < 100 ? 'yellow' : r > g + 60 && r > b + 60 ? 'red' : g > r + 60 && g > b ? 'green' : b > r + 60 ? 'blue' : '?');
  let agree = 0;
  for (let i = 0; i < crops.count; i++) {
    const c = (i * 32 * 32 + 16 * 32 + 16) * 3;
    if (shapes.classes[crops.labels[i]].startsWith(colourOf([...crops.pixels.subarray(c, c + 3)]))) agree += 1;
  }
  assert.ok(agree >= 0.75 * crops.count, `${agree} of ${crops.count} crops have their class colour at the centre`);
});

test('CropBatcher: seeded, every crop once per epoch, flips mirror; evalBatches covers all in order', async () => {
  const crops = await extractCrops(shapes.records.slice(0, 4), shapes.classes, { size: 16, context: 0 });
  const n = crops.count;
  const plain = new CropBatcher(crops, 1, 7, false);
  const seen = Array.from({ length: n }, (_, s) => plain.batch(s).images);
  // one epoch of batch size 1 visits every crop exactly once: all distinct images
  assert.equal(new Set(seen.map((im) => im.join(','))).size, new Set(Array.from({ length: n }, (_, i) => crops.pixels.subarray(i * 768, (i + 1) * 768).join(','))).size);
  assert.deepEqual(new CropBatcher(crops, 3, 7, false).batch(5), new CropBatcher(crops, 3, 7, false).batch(5));
  assert.notDeepEqual(new CropBatcher(crops, 3, 7, false).batch(0).labels.join() + new CropBatcher(crops, 3, 7, false).batch(1).labels.join(),
    new CropBatcher(crops, 3, 8, false).batch(0).labels.join() + new CropBatcher(crops, 3, 8, false).batch(1).labels.join());
  const flipping = new CropBatcher(crops, 1, 7, true);
  let flips = 0;
  for (let s = 0; s < 2 * n; s++) {
    const a = plain.batch(s).images;
    const b = flipping.batch(s).images;
    const mirrored = new Float32Array(a.length);
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) mirrored.set(a.subarray((y * 16 + x) * 3, (y * 16 + x) * 3 + 3), (y * 16 + 15 - x) * 3);
    const same = a.every((v, i) => v === b[i]);
    const mirror = mirrored.every((v, i) => v === b[i]);
    assert.ok(same || mirror, `step ${s}: neither the crop nor its mirror`);
    if (!same) flips += 1;
  }
  assert.ok(flips > 0 && flips < 2 * n, `${flips} flips in ${2 * n}`);
  const all = [...evalBatches(crops, 4)];
  assert.equal(all.reduce((k, b) => k + b.count, 0), n);
  assert.deepEqual(all.flatMap((b) => [...b.labels]), [...crops.labels]);
});
