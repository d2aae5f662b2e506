import type { DataProblem, VocObject } from '../types.ts';
import type { VocAnnotation } from './parse_annotation.ts';

/** The objects of one annotation that may be trained on, and what was wrong with the rest. */
export interface ValidatedAnnotation {
  /** False when the whole record must be skipped (no usable `<size>`). */
  usable: boolean;
  objects: VocObject[];
  problems: DataProblem[];
}

/**
 * Checks one parsed annotation against its image size and the class list.
 * Policy (as PaddleDetection's VOC reader drops invalid boxes): a bad box (missing coordinate,
 * zero or negative area, outside [0, width] x [0, height]) or an unknown class name drops that
 * object only; a missing or zero `<size>` drops the record, since its boxes cannot be checked.
 * Coordinates are VOC's 1-based inclusive pixels, so xmax may equal the width.
 */
export function validateAnnotation(ann: VocAnnotation, file: string, classes: ReadonlySet<string>): ValidatedAnnotation {
  const problems: DataProblem[] = [];
  if (!(ann.width > 0 && ann.height > 0)) {
    problems.push({ file, kind: 'malformed-xml', message: `<size> is missing or zero (width ${ann.width}, height ${ann.height}); record skipped` });
    return { usable: false, objects: [], problems };
  }
  const objects: VocObject[] = [];
  ann.objects.forEach((o, i) => {
    const where = `object[${i}] "${o.name}"`;
    const [x1, y1, x2, y2] = o.bbox;
    const box = `[${o.bbox.join(', ')}]`;
    let bad: string | null = null;
    if (!classes.has(o.name)) {
      problems.push({ file, kind: 'unknown-class', message: `${where}: class "${o.name}" is not in the class list; object skipped` });
      return;
    }
    if (!o.bbox.every(Number.isFinite)) bad = `bndbox ${box} has a missing or non-numeric coordinate`;
    else if (x2 <= x1 || y2 <= y1) bad = `bndbox ${box} has zero or negative area`;
    else if (x1 < 0 || y1 < 0 || x2 > ann.width || y2 > ann.height) bad = `bndbox ${box} is outside the ${ann.width}x${ann.height} image`;
    if (bad !== null) {
      problems.push({ file, kind: 'bad-box', message: `${where}: ${bad}; object skipped` });
      return;
    }
    objects.push({ name: o.name, bbox: [x1, y1, x2, y2], difficult: o.difficult, truncated: o.truncated });
  });
  return { usable: true, objects, problems };
}
