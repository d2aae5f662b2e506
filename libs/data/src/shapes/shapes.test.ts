import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { generateShapesDataset, ShapesDatasetError, type ShapesDataset } from './generate.ts';
import { renderScene } from './scene.ts';
import { SHAPES_CLASS_NAMES } from './classes.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kd-shapes-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const small = (out: string, seed: number) => generateShapesDataset({ out, train: 3, test: 2, unlabeled: 1, size: 96, seed });

function filesOf(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(root, p), readFileSync(p));
    }
  };
  walk(root);
  return out;
}

let first: ShapesDataset;

test('the same seed writes byte-identical files; another seed writes different images', async () => {
  first = await small(join(tmp, 'a'), 5);
  await small(join(tmp, 'b'), 5);
  await small(join(tmp, 'c'), 6);
  const a = filesOf(join(tmp, 'a'));
  const b = filesOf(join(tmp, 'b'));
  const c = filesOf(join(tmp, 'c'));
  // 6 JPEGs, 5 XMLs, 4 list files.
  assert.equal(a.size, 15);
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [name, bytes] of a) assert.ok(bytes.equals(b.get(name)!), `${name} differs between two runs with seed 5`);
  const jpg = 'VOCdevkit/VOC2012/JPEGImages/train_000000.jpg';
  assert.ok(!a.get(jpg)!.equals(c.get(jpg)!), 'seed 6 gave the same image as seed 5');
});

test('list files use PaddleDetection list lines, label_list has the classes', () => {
  const root = join(tmp, 'a');
  assert.equal(readFileSync(join(root, 'trainval.txt'), 'utf8'),
    ['train_000000', 'train_000001', 'train_000002'].map((id) => `VOCdevkit/VOC2012/JPEGImages/${id}.jpg VOCdevkit/VOC2012/Annotations/${id}.xml\n`).join(''));
  assert.equal(readFileSync(join(root, 'test.txt'), 'utf8').split('\n').length, 3);
  assert.equal(readFileSync(join(root, 'label_list.txt'), 'utf8'), SHAPES_CLASS_NAMES.join('\n') + '\n');
  assert.equal(readFileSync(join(root, 'unlabeled.txt'), 'utf8'), 'unlabeled/unlabeled_000000.jpg\n');
  assert.equal(first.unlabeled[0].annotationPath, null);
  assert.deepEqual(first.unlabeled[0].objects, []);
});

test('XML is well-formed VOC, agrees with the returned records, and the JPEG has the size it states', async () => {
  const parser = new XMLParser({ parseTagValue: false, isArray: (n) => n === 'object' });
  for (const r of [...first.trainval, ...first.test]) {
    const xml = readFileSync(r.annotationPath!, 'utf8');
    assert.equal(XMLValidator.validate(xml), true, r.annotationPath!);
    const ann = parser.parse(xml).annotation;
    assert.equal(ann.filename, `${r.id}.jpg`);
    assert.equal(ann.size.depth, '3');
    const meta = await sharp(r.imagePath).metadata();
    assert.equal(Number(ann.size.width), meta.width);
    assert.equal(Number(ann.size.height), meta.height);
    assert.equal(Math.max(meta.width!, meta.height!), 96);
    assert.equal(meta.channels, 3);
    const objects = ann.object ?? [];
    assert.equal(objects.length, r.objects.length);
    objects.forEach((o: { name: string; pose: string; difficult: string; bndbox: Record<string, string> }, i: number) => {
      const box = ['xmin', 'ymin', 'xmax', 'ymax'].map((k) => Number(o.bndbox[k]));
      assert.deepEqual(box, r.objects[i].bbox);
      assert.equal(o.name, r.objects[i].name);
      assert.equal(o.difficult, r.objects[i].difficult ? '1' : '0');
      assert.equal(o.pose, 'Unspecified');
      const [x1, y1, x2, y2] = box;
      assert.ok(box.every(Number.isInteger) && x1 >= 1 && y1 >= 1 && x1 <= x2 && y1 <= y2 && x2 <= r.width && y2 <= r.height, `${r.id}: box ${box} outside ${r.width}x${r.height}`);
    });
  }
});

test('across 40 scenes: every class, sizes on all three scales, truncated and difficult objects', () => {
  const objects = Array.from({ length: 40 }, (_, i) => renderScene(i, 320)).flatMap((s) => s.objects.map((o) => ({ ...o, s })));
  const names = new Set(objects.map((o) => o.name));
  assert.deepEqual([...names].sort(), [...SHAPES_CLASS_NAMES].sort());
  const sides = objects.map((o) => Math.max(o.bbox[2] - o.bbox[0] + 1, o.bbox[3] - o.bbox[1] + 1));
  assert.ok(sides.some((s) => s < 16), 'no object under 16 px');
  assert.ok(sides.some((s) => s >= 32 && s < 96), 'no medium object');
  assert.ok(sides.some((s) => s > 150), 'no large object');
  const atBorder = objects.filter((o) => o.truncated && (o.bbox[0] === 1 || o.bbox[1] === 1 || o.bbox[2] === o.s.width || o.bbox[3] === o.s.height));
  assert.ok(atBorder.length > 5, 'truncated objects should touch the border');
  const difficult = objects.filter((o) => o.difficult).length;
  assert.ok(difficult > 0 && difficult < objects.length / 4, `difficult ${difficult} of ${objects.length}`);
});

test('a run that fails leaves no trainval.txt behind from an earlier run; bad options name the option', async () => {
  const root = join(tmp, 'stale');
  await small(root, 1);
  // A file where a directory must go makes the next run fail after the list files were removed.
  rmSync(join(root, 'VOCdevkit/VOC2012/Annotations'), { recursive: true });
  writeFileSync(join(root, 'VOCdevkit/VOC2012/Annotations'), 'not a directory');
  await assert.rejects(small(root, 1), ShapesDatasetError);
  assert.throws(() => statSync(join(root, 'trainval.txt')));
  await assert.rejects(generateShapesDataset({ out: root, train: -1, test: 0, unlabeled: 0, size: 96, seed: 0 }), /train: expected an integer >= 0, got -1/);
  await assert.rejects(generateShapesDataset({ out: root, train: 1, test: 0, unlabeled: 0, size: 16, seed: 0 }), /size: expected an integer >= 32/);
});
