import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateVoc, vocIou, type Box, type Detection, type GroundTruthImage } from './voc_eval.ts';
import type { ApMetric } from './ap.ts';

test('vocIou uses the +1 pixel convention', () => {
  assert.equal(vocIou([0, 0, 9, 9], [0, 0, 9, 9]), 1);
  assert.equal(vocIou([0, 0, 9, 9], [5, 0, 14, 9]), 50 / 150);
  assert.equal(vocIou([0, 0, 9, 9], [10, 0, 19, 9]), 0);
});

// One image: g1, g2 (difficult), g3. Ranked: FP, hit on difficult (ignored), TP g1, TP g3.
// Kept points (recall, precision): (0, 0), (.5, .5), (1, 2/3). By hand:
//   11point: every t has a point with recall >= t and precision 2/3 -> 2/3
//   area:    envelope 2/3 over recall 0..1 -> 2/3
//   integral: .5 * .5 + 2/3 * .5 = 7/12
const images: GroundTruthImage[] = [{
  id: 'a',
  objects: [
    { class: 'cat', bbox: [0, 0, 9, 9] },
    { class: 'cat', bbox: [20, 20, 29, 29], difficult: true },
    { class: 'cat', bbox: [40, 0, 49, 9] },
    { class: 'dog', bbox: [60, 60, 69, 69] },
  ],
}];
const detections: Detection[] = [
  { image_id: 'a', class: 'cat', score: 0.95, bbox: [100, 100, 109, 109] },
  { image_id: 'a', class: 'cat', score: 0.93, bbox: [20, 20, 29, 29] },
  { image_id: 'a', class: 'cat', score: 0.9, bbox: [0, 0, 9, 9] },
  { image_id: 'a', class: 'cat', score: 0.8, bbox: [40, 0, 49, 9] },
];

test('AP of a hand-computed case for the three metrics; classes without GT are left out', () => {
  const expected: Record<ApMetric, number> = { '11point': 2 / 3, area: 2 / 3, integral: 7 / 12 };
  for (const metric of ['11point', 'area', 'integral'] as const) {
    const r = evaluateVoc(images, detections, ['cat', 'dog', 'bird'], metric);
    assert.ok(Math.abs(r.perClass.cat - expected[metric]) < 1e-12, `${metric}: ${r.perClass.cat}`);
    assert.equal(r.perClass.dog, 0, 'a class with GT but no detections scores 0');
    assert.ok(!('bird' in r.perClass), 'a class without GT is not in the mean');
    assert.ok(Math.abs(r.mAP - expected[metric] / 2) < 1e-12);
  }
});

test('a second detection of a matched object is a false positive; IoU must exceed the threshold', () => {
  const gt: GroundTruthImage[] = [{ id: 'i', objects: [{ class: 'c', bbox: [0, 0, 9, 9] }] }];
  const dup = evaluateVoc(gt, [
    { image_id: 'i', class: 'c', score: 0.9, bbox: [0, 0, 9, 9] },
    { image_id: 'i', class: 'c', score: 0.8, bbox: [0, 0, 9, 9] },
  ], ['c'], 'integral');
  assert.equal(dup.perClass.c, 1); // (1, 1) then (1, .5): the FP adds no recall
  // IoU exactly 0.5 is not a match: [0,0,9,9] vs [0,0,9,19] -> 100 / 200.
  const edge = evaluateVoc(gt, [{ image_id: 'i', class: 'c', score: 0.9, bbox: [0, 0, 9, 19] }], ['c'], 'area');
  assert.equal(edge.perClass.c, 0);
});

// An independent implementation: TP/FP by an explicit IoU matrix per image, AP from counts,
// the area metric as a sum over distinct recall levels of the best precision at or beyond.
function referenceAp(gt: GroundTruthImage[], dets: Detection[], cls: string, metric: ApMetric): number | undefined {
  const npos = gt.reduce((n, im) => n + im.objects.filter((o) => o.class === cls && !o.difficult).length, 0);
  if (npos === 0) return undefined;
  const order = dets.map((d, i) => i).filter((i) => dets[i].class === cls);
  order.sort((i, j) => (dets[j].score - dets[i].score) || (i - j));
  const used = new Set<string>();
  const points: Array<[number, number]> = [];
  let tp = 0;
  let fp = 0;
  for (const i of order) {
    const d = dets[i];
    const objs = gt.find((im) => im.id === d.image_id)?.objects.map((o, k) => ({ o, k })).filter(({ o }) => o.class === cls) ?? [];
    const ious = objs.map(({ o }) => vocIou(d.bbox, o.bbox));
    const m = ious.length ? Math.max(...ious) : 0;
    const hit = objs[ious.indexOf(m)];
    if (hit && m > 0.5) {
      if (hit.o.difficult) continue;
      const key = `${d.image_id}/${hit.k}`;
      if (used.has(key)) fp += 1; else { used.add(key); tp += 1; }
    } else fp += 1;
    points.push([tp / npos, tp / (tp + fp)]);
  }
  const bestFrom = (r: number) => Math.max(0, ...points.filter(([rec]) => rec >= r).map(([, p]) => p));
  if (metric === '11point') return [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].reduce((s, k) => s + bestFrom(k / 10), 0) / 11;
  if (metric === 'integral') return points.reduce((s, [r, p], k) => s + p * (r - (k ? points[k - 1][0] : 0)), 0);
  const levels = [...new Set(points.map(([r]) => r))].filter((r) => r > 0).sort((a, b) => a - b);
  return levels.reduce((s, r, k) => s + (r - (k ? levels[k - 1] : 0)) * bestFrom(r), 0);
}

test('agrees with an independent implementation to 1e-9 on random cases', () => {
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const box = (): Box => { const x = Math.floor(rand() * 50); const y = Math.floor(rand() * 50); return [x, y, x + 5 + Math.floor(rand() * 20), y + 5 + Math.floor(rand() * 20)]; };
  const classes = ['a', 'b', 'c'];
  for (let trial = 0; trial < 200; trial++) {
    const gt: GroundTruthImage[] = Array.from({ length: 1 + Math.floor(rand() * 4) }, (_, i) => ({
      id: `im${i}`,
      objects: Array.from({ length: Math.floor(rand() * 5) }, () => ({ class: classes[Math.floor(rand() * 3)], bbox: box(), difficult: rand() < 0.2 })),
    }));
    const dets: Detection[] = [];
    for (const im of gt) {
      for (const o of im.objects) if (rand() < 0.7) dets.push({ image_id: im.id, class: o.class, score: Math.round(rand() * 10) / 10, bbox: o.bbox.map((v) => v + Math.floor(rand() * 5) - 2) as Box });
      for (let k = Math.floor(rand() * 4); k > 0; k--) dets.push({ image_id: im.id, class: classes[Math.floor(rand() * 3)], score: Math.round(rand() * 10) / 10, bbox: box() });
    }
    for (const metric of ['11point', 'area', 'integral'] as const) {
      const ours = evaluateVoc(gt, dets, classes, metric);
      for (const cls of classes) {
        const ref = referenceAp(gt, dets, cls, metric);
        if (ref === undefined) assert.ok(!(cls in ours.perClass));
        else assert.ok(Math.abs(ours.perClass[cls] - ref) <= 1e-9, `trial ${trial} ${metric} ${cls}: ${ours.perClass[cls]} vs ${ref}`);
      }
    }
  }
});
