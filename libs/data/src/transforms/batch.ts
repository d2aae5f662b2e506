// Batch assembly: resized, normalised NHWC images plus YOLOv3's padded ground truth.
import type { DetectionSample, EvalBatch, TrainBatch } from '../types.ts';
import { normalizeInto } from './normalize.ts';
import { resizeBilinear } from './resize.ts';

/** PaddleDetection's PadBox: at most 50 boxes per image. */
export const MAX_BOXES = 50;

/**
 * A TrainBatch of `size` x `size` images. Boxes become (cx, cy, w, h) normalised by the
 * sample's own width/height (so the resize needs no box arithmetic); the first `maxBoxes`
 * non-empty boxes are kept, in order, the rest of the rows are zero with score 0.
 */
export function assembleTrainBatch(samples: readonly DetectionSample[], size: number, maxBoxes = MAX_BOXES): TrainBatch {
  const n = samples.length;
  const plane = size * size * 3;
  const images = new Float32Array(n * plane);
  const gtBox = new Float32Array(n * maxBoxes * 4);
  const gtClass = new Int32Array(n * maxBoxes);
  const gtScore = new Float32Array(n * maxBoxes);
  samples.forEach((s, i) => {
    normalizeInto(images, i * plane, resizeBilinear(s.pixels, s.width, s.height, size, size));
    let row = 0;
    for (let k = 0; k < s.boxes.length / 4 && row < maxBoxes; k++) {
      const [x1, y1, x2, y2] = s.boxes.subarray(k * 4, k * 4 + 4);
      if (!(x2 > x1 && y2 > y1)) continue;
      const r = i * maxBoxes + row;
      gtBox.set([(x1 + x2) / 2 / s.width, (y1 + y2) / 2 / s.height, (x2 - x1) / s.width, (y2 - y1) / s.height], r * 4);
      gtClass[r] = s.classes[k];
      gtScore[r] = s.scores[k];
      row++;
    }
  });
  const labeled = Uint8Array.from(samples, (s) => (s.labeled === false ? 0 : 1));
  return { ids: samples.map((s) => s.id), size, maxBoxes, images, gtBox, gtClass, gtScore, labeled };
}

/** An EvalBatch: each image resized to size x size (no aspect keep) and normalised; original sizes kept. */
export function assembleEvalBatch(samples: readonly DetectionSample[], size: number): EvalBatch {
  const plane = size * size * 3;
  const images = new Float32Array(samples.length * plane);
  samples.forEach((s, i) => normalizeInto(images, i * plane, resizeBilinear(s.pixels, s.width, s.height, size, size)));
  return {
    ids: samples.map((s) => s.id),
    size,
    images,
    origWidth: Int32Array.from(samples, (s) => s.width),
    origHeight: Int32Array.from(samples, (s) => s.height),
  };
}
