import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readVocDataset } from './read_dataset.ts';
import { VocDatasetError } from './errors.ts';
import { tempDir, writeJpeg, writeText, writeVocPair } from './test_fixtures.ts';

// dataset/voc/ (PaddleDetection) > VOCdevkit/ > VOC2012/ > Annotations/, JPEGImages/, ImageSets/Main/
async function makeDataset() {
  const holder = tempDir();
  const devkit = join(holder, 'VOCdevkit');
  const year = join(devkit, 'VOC2012');
  await writeVocPair(year, '2008_000001', 64, 48, [{ name: 'cat', bbox: [1, 1, 30, 20], difficult: 0, truncated: 1 }, { name: 'person', bbox: [5.5, 6, 60, 48] }]);
  await writeVocPair(year, '2008_000002', 32, 32, [{ name: 'dog', bbox: [2, 2, 31, 31], difficult: 1 }]);
  await writeVocPair(year, '2008_000003', 40, 30, [{ name: 'cat', bbox: [0, 0, 50, 10] }, { name: 'unicorn', bbox: [1, 1, 5, 5] }, { name: 'dog', bbox: [1, 1, 10, 10] }]);
  writeText(join(year, 'Annotations', '2008_000004.xml'), '<annotation><size><width>10</width></annotation>'); // malformed
  writeText(join(year, 'Annotations', '2008_000005.xml'), '<annotation><size><width>10</width><height>10</height></size></annotation>'); // image missing
  await writeJpeg(join(year, 'JPEGImages', '2008_000006.jpg'), 16, 16); // image without annotation: not a record
  writeText(join(year, 'ImageSets', 'Main', 'val.txt'), '2008_000002\n2008_000001\n');
  return { holder, devkit, year };
}

test('the three directory layouts read the same records; problems never stop the read', async () => {
  const { holder, devkit, year } = await makeDataset();
  for (const dir of [holder, devkit, year]) {
    const ds = await readVocDataset(dir);
    assert.deepEqual(ds.records.map((r) => r.id), ['2008_000001', '2008_000002', '2008_000003'], dir);
    assert.equal(ds.classSource, 'VOC_CLASSES');
    assert.equal(ds.classes.length, 20);
    const first = ds.records[0];
    assert.equal(first.imagePath, join(year, 'JPEGImages', '2008_000001.jpg'));
    assert.equal(first.annotationPath, join(year, 'Annotations', '2008_000001.xml'));
    assert.deepEqual([first.width, first.height], [64, 48]);
    assert.deepEqual(first.objects, [
      { name: 'cat', bbox: [1, 1, 30, 20], difficult: false, truncated: true },
      { name: 'person', bbox: [5.5, 6, 60, 48], difficult: false, truncated: false },
    ]);
    assert.equal(ds.records[1].objects[0].difficult, true);
    // the out-of-image cat and the unknown class are dropped, the dog in the same file kept
    assert.deepEqual(ds.records[2].objects.map((o) => o.name), ['dog']);
    assert.deepEqual(ds.problems.map((p) => `${p.kind} ${p.file.slice(year.length + 1)}`), [
      'bad-box Annotations/2008_000003.xml',
      'unknown-class Annotations/2008_000003.xml',
      'malformed-xml Annotations/2008_000004.xml',
      'missing-file JPEGImages/2008_000005.jpg',
    ]);
  }
});

test('PaddleDetection list files at the root, by split name, file name, or as the argument', async () => {
  const { holder, year } = await makeDataset();
  writeText(join(holder, 'trainval.txt'), [
    'VOCdevkit/VOC2012/JPEGImages/2008_000003.jpg VOCdevkit/VOC2012/Annotations/2008_000003.xml',
    '',
    'VOCdevkit/VOC2012/JPEGImages/2008_000001.jpg VOCdevkit/VOC2012/Annotations/2008_000001.xml',
    'just-one-field.jpg',
    'VOCdevkit/VOC2012/JPEGImages/2008_000009.jpg VOCdevkit/VOC2012/Annotations/2008_000009.xml',
    'VOCdevkit/VOC2012/JPEGImages/2008_000001.jpg VOCdevkit/VOC2012/Annotations/2008_000001.xml',
  ].join('\n'));
  for (const [dir, split] of [[holder, 'trainval'], [holder, 'trainval.txt'], [join(holder, 'trainval.txt'), undefined]] as const) {
    const ds = await readVocDataset(dir, { split });
    assert.deepEqual(ds.records.map((r) => r.id), ['2008_000003', '2008_000001'], `${dir} ${split}`);
    assert.equal(ds.records[1].imagePath, join(year, 'JPEGImages', '2008_000001.jpg'));
    const kinds = ds.problems.map((p) => p.kind);
    assert.deepEqual(kinds, ['bad-list-line', 'bad-list-line', 'bad-box', 'unknown-class', 'missing-file']);
    assert.match(ds.problems[0].message, /line 4: expected "<image> <annotation>", got "just-one-field.jpg"/);
    assert.match(ds.problems[1].message, /image id "2008_000001" appears twice/);
    assert.match(ds.problems[4].file, /2008_000009\.xml$/);
  }
});

test('ImageSets/Main/<split>.txt lists ids; label_list.txt and the classes option set the classes', async () => {
  const { holder, year } = await makeDataset();
  const ds = await readVocDataset(holder, { split: 'val' });
  assert.deepEqual(ds.records.map((r) => r.id), ['2008_000002', '2008_000001']);
  writeText(join(holder, 'label_list.txt'), 'cat\n dog \n\n');
  const labelled = await readVocDataset(year, { split: 'val' });
  assert.equal(labelled.classSource, 'VOC_CLASSES', 'label_list.txt is looked for beside the data, not above it');
  const fromList = await readVocDataset(holder, { split: 'val' });
  assert.deepEqual(fromList.classes, ['cat', 'dog']);
  assert.equal(fromList.classSource, join(holder, 'label_list.txt'));
  assert.deepEqual(fromList.problems.map((p) => [p.kind, p.message.match(/"(\w+)"/)?.[1]]), [['unknown-class', 'person']]);
  const given = await readVocDataset(holder, { split: 'val', classes: ['dog'] });
  assert.deepEqual(given.records.map((r) => r.objects.map((o) => o.name)), [['dog'], []]);
});

test('requireImages: false keeps records whose image is missing (mAP needs only annotations)', async () => {
  const { year } = await makeDataset();
  const ds = await readVocDataset(year, { requireImages: false });
  assert.deepEqual(ds.records.map((r) => r.id), ['2008_000001', '2008_000002', '2008_000003', '2008_000005']);
});

test('an unusable argument is a VocDatasetError naming the path', async () => {
  const { holder } = await makeDataset();
  await assert.rejects(readVocDataset(join(holder, 'nope')), (e: unknown) => e instanceof VocDatasetError && /nope: does not exist/.test(e.message));
  await assert.rejects(readVocDataset(holder, { split: 'train' }), /no list file for split "train" \(looked for .*train\.txt, .*VOCdevkit\/VOC2012\/ImageSets\/Main\/train\.txt\)/);
  await assert.rejects(readVocDataset(tempDir()), /no VOC layout here/);
});
