import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runKd, tempDir, vocXml, writeText } from './test_fixtures.ts';

// By hand. Image a: cat [0,0,9,9], cat [20,0,29,9]; image b: cat [0,0,19,19] difficult, dog.
// Ranked cat detections: TP, hit on the difficult one (ignored), FP, TP, duplicate (FP):
// points (recall, precision) = (.5, 1), (.5, .5), (1, 2/3), (1, .5).
//   11point: t = 0 .. .5 -> 1 (6 thresholds), t = .6 .. 1 -> 2/3 (5): (6 + 10/3) / 11 = 28/33
//   area:    .5 * 1 + .5 * 2/3 = 5/6
// dog: one TP -> 1. bird: no ground truth -> not in the mean. mAP(11point) = (28/33 + 1) / 2 = 61/66.
const gt = {
  classes: ['cat', 'dog', 'bird'],
  images: [
    { id: 'a', width: 200, height: 100, objects: [{ class: 'cat', bbox: [0, 0, 9, 9] }, { class: 'cat', bbox: [20, 0, 29, 9] }] },
    { id: 'b', width: 200, height: 100, objects: [{ class: 'cat', bbox: [0, 0, 19, 19], difficult: true }, { class: 'dog', bbox: [50, 50, 59, 59] }] },
  ],
};
const dets = [
  { image_id: 'a', class: 'cat', score: 0.9, bbox: [0, 0, 9, 9] },
  { image_id: 'b', class: 'cat', score: 0.8, bbox: [0, 0, 19, 19] },
  { image_id: 'a', class: 'cat', score: 0.7, bbox: [100, 50, 110, 60] },
  { image_id: 'a', class: 'cat', score: 0.6, bbox: [20, 0, 29, 9] },
  { image_id: 'a', class: 'cat', score: 0.5, bbox: [0, 0, 9, 9] },
  { image_id: 'b', class: 'dog', score: 0.4, bbox: [50, 50, 59, 59] },
];

function files() {
  const dir = tempDir();
  return {
    dir,
    gt: writeText(join(dir, 'gt.json'), JSON.stringify(gt)),
    dets: writeText(join(dir, 'dets.json'), JSON.stringify(dets)),
  };
}

test('kd map --json prints one object with mAP and per_class', async () => {
  const f = files();
  const out = await runKd('map', '--gt', f.gt, '--detections', f.dets, '--json');
  assert.equal(out.status, 0, out.stderr);
  const lines = out.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const result = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(result), ['mAP', 'per_class']);
  assert.deepEqual(Object.keys(result.per_class), ['cat', 'dog']);
  assert.ok(Math.abs(result.per_class.cat - 28 / 33) < 1e-12, String(result.per_class.cat));
  assert.equal(result.per_class.dog, 1);
  assert.ok(Math.abs(result.mAP - 61 / 66) < 1e-12, String(result.mAP));
});

test('kd map prints a per-class table ending with the mAP line', async () => {
  const f = files();
  const [eleven, area] = await Promise.all([
    runKd('map', '--gt', f.gt, '--detections', f.dets),
    runKd('map', '--gt', f.gt, '--detections', f.dets, '--metric', 'area', '--iou', '0.3'),
  ]);
  assert.equal(eleven.status, 0, eleven.stderr);
  const lines = eleven.stdout.trim().split('\n');
  assert.deepEqual(lines.slice(1, 4).map((l) => l.trim().split(/\s+/)), [['cat', '84.85', '2', '5'], ['dog', '100.00', '1', '1'], ['bird', '-', '0', '0']]);
  assert.equal(lines.at(-1), 'mAP(0.50, 11point) = 92.42%');
  // (5/6 + 1) / 2 = 11/12; at IoU 0.3 no match changes here
  assert.equal(area.stdout.trim().split('\n').at(-1), 'mAP(0.30, area) = 91.67%');
});

test('kd map reads ground truth from a VOC folder (no images needed) and a list file split', async () => {
  const dir = tempDir();
  const year = join(dir, 'VOCdevkit', 'VOC2012');
  writeText(join(year, 'Annotations', 'a.xml'), vocXml(200, 100, [['cat', 0, 0, 9, 9], ['cat', 20, 0, 29, 9, 0]]));
  writeText(join(year, 'Annotations', 'b.xml'), vocXml(200, 100, [['cat', 0, 0, 19, 19, 1], ['dog', 50, 50, 59, 59]]));
  writeText(join(year, 'Annotations', 'c.xml'), vocXml(200, 100, [['cat', 0, 0, 9, 9]])); // not in the split: would add a positive
  writeText(join(dir, 'test.txt'), 'VOCdevkit/VOC2012/JPEGImages/a.jpg VOCdevkit/VOC2012/Annotations/a.xml\nVOCdevkit/VOC2012/JPEGImages/b.jpg VOCdevkit/VOC2012/Annotations/b.xml\n');
  const detsFile = writeText(join(dir, 'dets.json'), JSON.stringify(dets));
  const split = await runKd('map', '--gt', dir, '--split', 'test', '--detections', detsFile, '--json');
  assert.equal(split.status, 0, split.stderr);
  assert.ok(Math.abs(JSON.parse(split.stdout).mAP - 61 / 66) < 1e-12, split.stdout);
});

test('kd map: bad input exits 2 with a message naming the file, record and field', async () => {
  const f = files();
  const write = (name: string, value: unknown) => writeText(join(f.dir, name), typeof value === 'string' ? value : JSON.stringify(value));
  // Each field's message is tested in libs/metrics/src/io/io.test.ts; here, that the command
  // turns every kind of failure (file, detections record, ground truth record, option) into exit 2.
  const cases: Array<[string[], RegExp]> = [
    [['--gt', join(f.dir, 'nope.json'), '--detections', f.dets], /--gt .*nope\.json: does not exist/],
    [['--gt', f.gt, '--detections', write('box.json', [dets[0], { ...dets[0], bbox: [1, 2, 3] }])], /box\.json: detections\[1\]\.bbox: expected 4 finite numbers \[x1, y1, x2, y2\], got \[1,2,3\]/],
    [['--gt', write('gt2.json', { ...gt, images: [{ id: 'a', objects: [{ class: 'cow', bbox: [0, 0, 1, 1] }] }] }), '--detections', f.dets], /gt2\.json: gt\.images\[0\]\.objects\[0\]\.class: "cow" is not in classes/],
    [['--gt', f.gt, '--detections', f.dets, '--metric', 'auc'], /--metric.*'auc' is invalid/],
  ];
  // a score beyond a double's range: named as an overflow, not as null
  cases.push([['--gt', f.gt, '--detections', write('huge.json', '[{"image_id": "a", "class": "cat", "score": 1e400, "bbox": [0, 0, 9, 9]}]')],
    /huge\.json: detections\[0\]\.score: expected a finite number, got Infinity \(a number in the file overflowed/]);
  const runs = await Promise.all(cases.map(([args]) => runKd('map', ...args)));
  runs.forEach((out, i) => {
    assert.equal(out.status, 2, `case ${i}: ${out.stderr}`);
    assert.match(out.stderr, cases[i][1], `case ${i}`);
    assert.equal(out.stdout, '', `case ${i}`);
  });
});

test('kd map with no detections ([]): the table of zeros, and a warning that there were none', async () => {
  const f = files();
  const empty = writeText(join(f.dir, 'empty.json'), '[]');
  const out = await runKd('map', '--gt', f.gt, '--detections', empty);
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stdout, /mAP\(0\.50, 11point\) = 0\.00%/);
  assert.match(out.stderr, /kd map: warning: --detections .*empty\.json holds no detections \(an empty list\): every AP is 0/);
});
