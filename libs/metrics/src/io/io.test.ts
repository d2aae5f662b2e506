import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MapInputError, parseDetections, parseGroundTruth, parseJsonText } from './index.ts';

const gtJson = {
  classes: ['cat', 'dog'],
  images: [
    { id: 'a', width: 100, height: 80, objects: [{ class: 'cat', bbox: [0, 0, 9, 9] }, { class: 'dog', bbox: [5, 5, 5, 5], difficult: 1 }] },
    { id: 'b', objects: [] },
  ],
};

test('ground truth JSON: sizes optional, difficult as boolean or 0/1, one-pixel boxes allowed', () => {
  const gt = parseGroundTruth(gtJson, 'gt.json');
  assert.deepEqual(gt, {
    classes: ['cat', 'dog'],
    images: [
      { id: 'a', width: 100, height: 80, objects: [{ class: 'cat', bbox: [0, 0, 9, 9], difficult: false }, { class: 'dog', bbox: [5, 5, 5, 5], difficult: true }] },
      { id: 'b', objects: [] },
    ],
  });
});

const rejects = (fn: () => unknown, message: string) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MapInputError, String(e));
    assert.equal(e.message, message);
    return true;
  });

test('bad ground truth names the file, the record and the field', () => {
  const with_ = (patch: (g: typeof gtJson & Record<string, unknown>) => void) => {
    const g = structuredClone(gtJson) as typeof gtJson & Record<string, unknown>;
    patch(g);
    return () => parseGroundTruth(g, 'gt.json');
  };
  rejects(() => parseGroundTruth([], 'gt.json'), 'gt.json: gt: expected an object, got []');
  rejects(with_((g) => { g.images[1].objects = [{ class: 'cow', bbox: [0, 0, 1, 1] }]; }), 'gt.json: gt.images[1].objects[0].class: "cow" is not in classes');
  rejects(with_((g) => { (g.images[0].objects[1] as { bbox: unknown }).bbox = [1, 2, 3]; }), 'gt.json: gt.images[0].objects[1].bbox: expected 4 finite numbers [x1, y1, x2, y2], got [1,2,3]');
  rejects(with_((g) => { g.images[0].objects[0].bbox = [5, 0, 4, 9]; }), 'gt.json: gt.images[0].objects[0].bbox: expected x2 >= x1 and y2 >= y1, got [5,0,4,9]');
  rejects(with_((g) => { g.images[1].id = 'a'; }), 'gt.json: gt.images[1].id: "a" is used by an earlier image too');
  rejects(with_((g) => { g.classes = ['cat', 'cat']; }), 'gt.json: gt.classes[1]: "cat" is listed twice');
  rejects(with_((g) => { g.images[0].width = -3; }), 'gt.json: gt.images[0].width: expected a positive number, got -3');
  rejects(with_((g) => { (g.images[0].objects[0] as Record<string, unknown>).difficult = 'yes'; }), 'gt.json: gt.images[0].objects[0].difficult: expected true/false or 0/1, got "yes"');
  rejects(with_((g) => { delete (g as Record<string, unknown>).images; }), 'gt.json: gt.images: expected an array, got nothing (missing)');
});

test('detections are checked against the ground truth', () => {
  const gt = parseGroundTruth(gtJson);
  const ok = [{ image_id: 'a', class: 'cat', score: 0.9, bbox: [0, 0, 9, 9], extra: 'ignored' }];
  assert.deepEqual(parseDetections(ok, gt), [{ image_id: 'a', class: 'cat', score: 0.9, bbox: [0, 0, 9, 9] }]);
  const bad = (d: Record<string, unknown>, message: string) => rejects(() => parseDetections([...ok, ...ok, d], gt, 'dets.json'), message);
  bad({ image_id: 'z', class: 'cat', score: 1, bbox: [0, 0, 1, 1] }, 'dets.json: detections[2].image_id: "z" is not an image of the ground truth');
  bad({ image_id: 'a', class: 'cow', score: 1, bbox: [0, 0, 1, 1] }, 'dets.json: detections[2].class: "cow" is not in classes');
  bad({ image_id: 'a', class: 'cat', score: null, bbox: [0, 0, 1, 1] }, 'dets.json: detections[2].score: expected a finite number, got null');
  bad({ image_id: 'a', class: 'cat', score: 1, bbox: [0, 0, 1, 'x'] }, 'dets.json: detections[2].bbox: expected 4 finite numbers [x1, y1, x2, y2], got [0,0,1,"x"]');
  bad({ image_id: 7, class: 'cat', score: 1, bbox: [0, 0, 1, 1] }, 'dets.json: detections[2].image_id: expected a non-empty string, got 7');
  rejects(() => parseDetections({}, gt, 'dets.json'), 'dets.json: detections: expected an array, got {}');
  // JSON.parse turns a number beyond a double's range into Infinity (which JSON.stringify shows as null)
  const overflowed = parseJsonText('[{"image_id": "a", "class": "cat", "score": 1e400, "bbox": [0, 0, 1, 1]}, {"image_id": "a", "class": "cat", "score": 1, "bbox": [0, 0, -1e999, 1]}]');
  const why = ' (a number in the file overflowed: beyond +-1.8e308, the largest a double holds, it reads as Infinity)';
  rejects(() => parseDetections(overflowed, gt, 'dets.json'), `dets.json: detections[0].score: expected a finite number, got Infinity${why}`);
  rejects(() => parseDetections([(overflowed as unknown[])[1]], gt, 'dets.json'),
    `dets.json: detections[0].bbox: expected 4 finite numbers [x1, y1, x2, y2], got [0,0,-Infinity,1]${why}`);
});

test('parseJsonText names the source of invalid JSON', () => {
  assert.deepEqual(parseJsonText('[1]'), [1]);
  assert.throws(() => parseJsonText('{"a": ', 'dets.json'), (e: unknown) => e instanceof MapInputError && /^dets\.json: not valid JSON: /.test(e.message));
});
