import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { splitVoc } from './split_voc.ts';
import { readVocDataset } from '../voc/read_dataset.ts';
import { tempDir, writeJpeg, writeVocPair } from '../voc/test_fixtures.ts';

// 20 annotated images and 2 without annotation, in dataset/voc/VOCdevkit/VOC2012.
async function makeDataset() {
  const holder = tempDir();
  const year = join(holder, 'VOCdevkit', 'VOC2012');
  for (let i = 0; i < 20; i++) await writeVocPair(year, `2008_${String(i).padStart(6, '0')}`, 16, 16, [{ name: 'cat', bbox: [1, 1, 8, 8] }]);
  await writeJpeg(join(year, 'JPEGImages', 'unlabeled_a.jpg'), 8, 8);
  await writeJpeg(join(year, 'JPEGImages', 'unlabeled_b.jpg'), 8, 8);
  return { holder, year };
}

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');

test('splitVoc: the same seed gives the same lists, the ratio holds, lines resolve, the reader reads them', async () => {
  const { holder, year } = await makeDataset();
  const r = splitVoc(holder, { ratio: 0.9, seed: 7 });
  assert.deepEqual([r.trainval, r.test], [18, 2]);
  assert.deepEqual(r.skipped.map((s) => s.image), ['unlabeled_a.jpg', 'unlabeled_b.jpg'].map((n) => join(year, 'JPEGImages', n)));
  const trainval = lines(r.trainvalPath);
  const test_ = lines(r.testPath);
  assert.equal(trainval.length, 18);
  assert.equal(test_.length, 2);
  assert.equal(new Set([...trainval, ...test_]).size, 20);
  for (const line of [...trainval, ...test_]) {
    const [img, xml] = line.split(' ');
    assert.match(img, /^VOCdevkit\/VOC2012\/JPEGImages\/2008_\d{6}\.jpg$/);
    assert.equal(xml, img.replace('JPEGImages', 'Annotations').replace('.jpg', '.xml'));
    assert.ok(existsSync(join(holder, img)) && existsSync(join(holder, xml)));
  }
  assert.deepEqual(readdirSync(holder).sort(), ['VOCdevkit', 'test.txt', 'trainval.txt'], 'no temp files left');

  splitVoc(holder, { ratio: 0.9, seed: 7 });
  assert.deepEqual(lines(r.trainvalPath), trainval, 'same seed, same lists');
  splitVoc(holder, { ratio: 0.9, seed: 8 });
  assert.notDeepEqual(lines(r.trainvalPath), trainval, 'another seed, another order');

  const back = await readVocDataset(holder, { split: 'test' });
  assert.deepEqual(back.problems, []);
  assert.deepEqual(back.records.map((rec) => rec.id), lines(r.testPath).map((l) => l.split(' ')[0].split('/')[3].replace('.jpg', '')));
});

test('splitVoc writes lines relative to the folder it was given', async () => {
  const { year } = await makeDataset();
  const r = splitVoc(year, { ratio: 0.5, seed: 1 });
  assert.deepEqual([r.trainval, r.test], [10, 10]);
  assert.match(lines(r.trainvalPath)[0], /^JPEGImages\/2008_\d{6}\.jpg Annotations\/2008_\d{6}\.xml$/);
  assert.equal(r.trainvalPath, join(year, 'trainval.txt'));
  assert.equal((await readVocDataset(year, { split: 'trainval' })).records.length, 10);
});

test('splitVoc rejects a bad ratio, a bad seed and a folder without JPEGImages', async () => {
  const { holder } = await makeDataset();
  assert.throws(() => splitVoc(holder, { ratio: 1, seed: 1 }), /ratio must be in \(0, 1\), got 1/);
  assert.throws(() => splitVoc(holder, { ratio: 0.5, seed: 1.5 }), /seed must be an integer, got 1.5/);
  assert.throws(() => splitVoc(tempDir(), { ratio: 0.5, seed: 1 }), /no JPEGImages\/ folder found/);
});
