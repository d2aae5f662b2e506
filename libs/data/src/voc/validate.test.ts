import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateAnnotation } from './validate.ts';
import type { RawVocObject, VocAnnotation } from './parse_annotation.ts';

const classes = new Set(['cat', 'dog']);
const obj = (name: string, bbox: RawVocObject['bbox']): RawVocObject => ({ name, bbox, difficult: false, truncated: false });
const ann = (objects: RawVocObject[], width = 100, height = 50): VocAnnotation => ({ filename: null, width, height, objects });

test('bad boxes and unknown classes drop only that object, each with a problem naming the file', () => {
  const r = validateAnnotation(ann([
    obj('cat', [1, 1, 100, 50]), // touches the far edges: VOC coordinates are 1-based, inclusive
    obj('cat', [0, 0, 101, 20]), // outside
    obj('dog', [10, 10, 10, 20]), // zero area
    obj('dog', [10, 30, 20, 20]), // negative area
    obj('horse', [1, 1, 5, 5]), // unknown class
    obj('dog', [Number.NaN, 1, 5, 5]),
    obj('dog', [2.5, 3.5, 7.25, 9]),
  ]), 'a.xml', classes);
  assert.equal(r.usable, true);
  assert.deepEqual(r.objects.map((o) => o.bbox), [[1, 1, 100, 50], [2.5, 3.5, 7.25, 9]]);
  assert.deepEqual(r.problems.map((p) => [p.file, p.kind]), [
    ['a.xml', 'bad-box'], ['a.xml', 'bad-box'], ['a.xml', 'bad-box'], ['a.xml', 'unknown-class'], ['a.xml', 'bad-box'],
  ]);
  assert.match(r.problems[0].message, /object\[1\] "cat": bndbox \[0, 0, 101, 20\] is outside the 100x50 image/);
  assert.match(r.problems[1].message, /zero or negative area/);
  assert.match(r.problems[3].message, /class "horse" is not in the class list/);
  assert.match(r.problems[4].message, /missing or non-numeric/);
});

test('a zero <size> makes the record unusable', () => {
  const r = validateAnnotation(ann([obj('cat', [1, 1, 5, 5])], 0, 0), 'z.xml', classes);
  assert.equal(r.usable, false);
  assert.deepEqual(r.objects, []);
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0].kind, 'malformed-xml');
  assert.match(r.problems[0].message, /<size> is missing or zero/);
});
