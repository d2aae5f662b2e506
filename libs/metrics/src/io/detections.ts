import type { Detection } from '../voc_eval.ts';
import { expectArray, expectBox, expectFinite, expectRecord, expectString } from './checks.ts';
import { MapInputError } from './errors.ts';
import type { GroundTruthSet } from './ground_truth.ts';

/**
 * Validates parsed detections JSON `[{"image_id", "class", "score", "bbox": [x1,y1,x2,y2]}]`
 * against the ground truth: an image_id not in it, or a class not in its classes, is an error
 * (a silent mismatch would score as missed objects). Throws MapInputError naming the record.
 */
export function parseDetections(value: unknown, gt: GroundTruthSet, source?: string): Detection[] {
  const classes = new Set(gt.classes);
  const images = new Set(gt.images.map((im) => im.id));
  return expectArray(value, 'detections', source).map((raw, i): Detection => {
    const at = `detections[${i}]`;
    const d = expectRecord(raw, at, source);
    const imageId = expectString(d.image_id, `${at}.image_id`, source);
    if (!images.has(imageId)) throw new MapInputError(`${at}.image_id`, `"${imageId}" is not an image of the ground truth`, source);
    const cls = expectString(d.class, `${at}.class`, source);
    if (!classes.has(cls)) throw new MapInputError(`${at}.class`, `"${cls}" is not in classes`, source);
    return { image_id: imageId, class: cls, score: expectFinite(d.score, `${at}.score`, source), bbox: expectBox(d.bbox, `${at}.bbox`, source) };
  });
}
