import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JPEG_24x16, runKd, tempDir, vocXml, writeText } from './test_fixtures.ts';

function cleanDataset(): string {
  const year = join(tempDir(), 'VOC2012');
  for (const id of ['a', 'g', 'h']) {
    writeText(join(year, 'JPEGImages', `${id}.jpg`), JPEG_24x16);
    writeText(join(year, 'Annotations', `${id}.xml`), vocXml(24, 16, [['cat', 1, 1, 10, 10], ['dog', 5, 5, 24, 16, 1]]));
  }
  return year;
}

test('kd check-data on a clean dataset: summary, exit 0', async () => {
  const out = await runKd('check-data', cleanDataset());
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stdout, /^records {3}3 usable, 3 images decoded and matching <size>$/m);
  assert.match(out.stdout, /^objects {3}6 \(3 difficult\)$/m);
  assert.match(out.stdout, /^ {2}cat +3$/m);
  assert.match(out.stdout, /^ {2}dog +3$/m);
  assert.match(out.stdout, /^ {2}person +0$/m);
  assert.match(out.stdout, /^problems {2}0$/m);
});

test('kd check-data lists every problem naming the file, exit 1; --json has the same', async () => {
  const year = cleanDataset();
  writeText(join(year, 'JPEGImages', 'b.jpg'), JPEG_24x16);
  writeText(join(year, 'Annotations', 'b.xml'), vocXml(30, 16, [['cat', 1, 1, 10, 10]])); // decodes as 24x16
  writeText(join(year, 'JPEGImages', 'c.jpg'), Buffer.from(Array.from({ length: 999 }, (_, i) => (i * 31 + 7) % 256)));
  writeText(join(year, 'Annotations', 'c.xml'), vocXml(24, 16, [['cat', 1, 1, 10, 10]]));
  writeText(join(year, 'JPEGImages', 'd.jpg'), JPEG_24x16);
  writeText(join(year, 'Annotations', 'd.xml'), '<annotation><size><width>24</width></annotation>');
  writeText(join(year, 'JPEGImages', 'e.jpg'), JPEG_24x16);
  writeText(join(year, 'Annotations', 'e.xml'), vocXml(24, 16, [['cat', 1, 1, 30, 10], ['unicorn', 1, 1, 5, 5], ['dog', 1, 1, 5, 5]]));
  writeText(join(year, 'Annotations', 'f.xml'), vocXml(24, 16, [['cat', 1, 1, 10, 10]]));
  const [text, json] = await Promise.all([runKd('check-data', year), runKd('check-data', year, '--json')]);
  assert.equal(text.status, 1, text.stderr);
  const problemLines = text.stdout.split('\n').filter((l) => l.startsWith(year));
  assert.deepEqual(problemLines.map((l) => l.slice(year.length + 1).split(': ').slice(0, 2).join(' ')), [
    'Annotations/d.xml malformed-xml',
    'Annotations/e.xml bad-box',
    'Annotations/e.xml unknown-class',
    'JPEGImages/f.jpg missing-file',
    'JPEGImages/b.jpg size-mismatch',
    'JPEGImages/c.jpg corrupt-image',
  ]);
  assert.match(text.stdout, /^records {3}6 usable, 4 images decoded and matching <size>$/m);
  assert.match(text.stdout, /^problems {2}6 \(malformed-xml 1, bad-box 1, unknown-class 1, missing-file 1, size-mismatch 1, corrupt-image 1\)$/m);

  assert.equal(json.status, 1, json.stderr);
  const r = JSON.parse(json.stdout);
  assert.equal(r.records, 6);
  assert.equal(r.images_ok, 4);
  assert.equal(r.objects_per_class.cat, 5); // a, g, h, b, c (e's cat is outside its image)
  assert.equal(r.objects_per_class.dog, 4);
  assert.equal(r.problems.length, 6);
  assert.deepEqual(r.problems_by_kind, { 'malformed-xml': 1, 'bad-box': 1, 'unknown-class': 1, 'missing-file': 1, 'size-mismatch': 1, 'corrupt-image': 1 });
});

test('kd check-data on a half-written dataset (no label_list.txt, no lists): names what is missing first, then 5 problems of a kind and a count', async () => {
  // what a kd make-dataset stopped by Ctrl-C leaves: images and annotations, not yet label_list.txt and the lists
  const root = tempDir();
  const year = join(root, 'VOCdevkit', 'VOC2012');
  for (let i = 0; i < 7; i++) {
    writeText(join(year, 'JPEGImages', `train_${i}.jpg`), JPEG_24x16);
    writeText(join(year, 'Annotations', `train_${i}.xml`), vocXml(24, 16, [['red_circle', 1, 1, 10, 10]]));
  }
  const [summary, all] = await Promise.all([runKd('check-data', root), runKd('check-data', root, '--all')]);
  assert.equal(summary.status, 1, summary.stderr);
  const lines = summary.stdout.split('\n');
  assert.match(lines[0], /^missing: no label_list\.txt in .*: the classes are the 20 Pascal VOC ones, which 7 objects do not name/);
  assert.match(lines[1], /^missing: no list file \(trainval\.txt, test\.txt or ImageSets\/Main\/\*\.txt\) in /);
  assert.equal(lines.filter((l) => / unknown-class: /.test(l)).length, 5);
  assert.match(summary.stdout, /^\.\.\. and 2 more unknown-class problems \(--all or --json lists every one\)$/m);
  assert.equal(all.status, 1, all.stderr);
  assert.equal(all.stdout.split('\n').filter((l) => / unknown-class: /.test(l)).length, 7);
  assert.doesNotMatch(all.stdout, /more unknown-class/);
});

test('kd split-voc writes the same lists for the same seed; usage errors exit 2', async () => {
  const year = cleanDataset();
  writeText(join(year, 'JPEGImages', 'orphan.jpg'), JPEG_24x16);
  const first = await runKd('split-voc', year, '--ratio', '0.5', '--seed', '3');
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /trainval\.txt \(1 images\) and .*test\.txt \(2 images\), ratio 0\.5, seed 3/);
  assert.match(first.stdout, /skipped 1 images:\n {2}.*orphan\.jpg: no annotation/);
  const lists = () => ['trainval.txt', 'test.txt'].map((f) => readFileSync(join(year, f), 'utf8'));
  const before = lists();
  assert.equal(before.join('').split('\n').filter(Boolean).every((l) => /^JPEGImages\/[agh]\.jpg Annotations\/[agh]\.xml$/.test(l)), true, before.join(''));

  const [again, badRatio, noDir] = await Promise.all([
    runKd('split-voc', year, '--ratio', '0.5', '--seed', '3'),
    runKd('split-voc', year, '--ratio', '1.5'),
    runKd('check-data', join(year, 'nope')),
  ]);
  assert.equal(again.status, 0, again.stderr);
  assert.deepEqual(lists(), before);
  assert.equal(badRatio.status, 2);
  assert.match(badRatio.stderr, /--ratio.*expected a number in \(0, 1\), got "1\.5"/);
  assert.equal(noDir.status, 2);
  assert.match(noDir.stderr, /kd check-data: .*nope: does not exist/);
});
