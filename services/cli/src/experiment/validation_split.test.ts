import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { carveValidation } from './validation_split.ts';

const dir = mkdtempSync(join(tmpdir(), 'kd-valsplit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('carveValidation: every 10th image to val.txt, the rest to train.txt, disjoint, lines unchanged; the same files twice', () => {
  const lines = Array.from({ length: 25 }, (_, i) => `JPEGImages/${i}.jpg Annotations/${i}.xml`);
  writeFileSync(join(dir, 'trainval.txt'), `${lines.join('\n')}\n`);
  const out = join(dir, 'lists');
  const a = carveValidation(dir, 'trainval.txt', out);
  assert.deepEqual([a.trainImages, a.validationImages], [23, 2]);
  assert.deepEqual(readFileSync(a.validation, 'utf8').trim().split('\n'), [lines[9], lines[19]]);
  const train = readFileSync(a.train, 'utf8').trim().split('\n');
  assert.equal(train.length, 23);
  assert.ok(!train.includes(lines[9]) && train.includes(lines[0]) && train.includes(lines[24]));
  const b = carveValidation(dir, 'trainval', out);
  assert.equal(readFileSync(b.train, 'utf8'), readFileSync(a.train, 'utf8'));
});

test('carveValidation: a missing list or too few images is a clear error', () => {
  assert.throws(() => carveValidation(dir, 'nope.txt', join(dir, 'x')), /--split validation: no list file nope\.txt at /);
  writeFileSync(join(dir, 'tiny.txt'), 'JPEGImages/a.jpg Annotations/a.xml\n');
  assert.throws(() => carveValidation(dir, 'tiny.txt', join(dir, 'y')), /tiny\.txt has 1 images, too few to carve/);
});
