import type { GroundTruthImage, GroundTruthObject } from '../voc_eval.ts';
import { describe, expectArray, expectBox, expectFinite, expectRecord, expectString } from './checks.ts';
import { MapInputError } from './errors.ts';

/** A ground-truth image with its size in pixels when the file gives it. */
export interface SizedGroundTruthImage extends GroundTruthImage {
  width?: number;
  height?: number;
}

/** Ground truth for `kd map`: the class list and the images with their objects. */
export interface GroundTruthSet {
  classes: string[];
  images: SizedGroundTruthImage[];
}

/**
 * Validates parsed ground-truth JSON `{"classes": [...], "images": [{"id", "width", "height",
 * "objects": [{"class", "bbox": [x1,y1,x2,y2], "difficult"}]}]}` (width/height optional;
 * difficult optional, a boolean or 0/1). Throws MapInputError naming the first bad field.
 */
export function parseGroundTruth(value: unknown, source?: string): GroundTruthSet {
  const root = expectRecord(value, 'gt', source);
  const classes = expectArray(root.classes, 'gt.classes', source).map((c, i) => expectString(c, `gt.classes[${i}]`, source));
  if (classes.length === 0) throw new MapInputError('gt.classes', 'expected at least one class name', source);
  const classSet = new Set<string>();
  classes.forEach((c, i) => {
    if (classSet.has(c)) throw new MapInputError(`gt.classes[${i}]`, `"${c}" is listed twice`, source);
    classSet.add(c);
  });
  const ids = new Set<string>();
  const images = expectArray(root.images, 'gt.images', source).map((raw, i): SizedGroundTruthImage => {
    const at = `gt.images[${i}]`;
    const im = expectRecord(raw, at, source);
    const id = expectString(im.id, `${at}.id`, source);
    if (ids.has(id)) throw new MapInputError(`${at}.id`, `"${id}" is used by an earlier image too`, source);
    ids.add(id);
    const objects = expectArray(im.objects ?? [], `${at}.objects`, source).map((rawObj, k): GroundTruthObject => {
      const oat = `${at}.objects[${k}]`;
      const o = expectRecord(rawObj, oat, source);
      const cls = expectString(o.class, `${oat}.class`, source);
      if (!classSet.has(cls)) throw new MapInputError(`${oat}.class`, `"${cls}" is not in classes`, source);
      return { class: cls, bbox: expectBox(o.bbox, `${oat}.bbox`, source), difficult: difficult(o.difficult, `${oat}.difficult`, source) };
    });
    const image: SizedGroundTruthImage = { id, objects };
    for (const key of ['width', 'height'] as const) {
      if (im[key] === undefined) continue;
      const v = expectFinite(im[key], `${at}.${key}`, source);
      if (v <= 0) throw new MapInputError(`${at}.${key}`, `expected a positive number, got ${v}`, source);
      image[key] = v;
    }
    return image;
  });
  return { classes, images };
}

// VOC writes <difficult> as 0/1, so both spellings are accepted.
function difficult(value: unknown, field: string, source?: string): boolean {
  if (value === undefined || value === false || value === 0) return false;
  if (value === true || value === 1) return true;
  throw new MapInputError(field, `expected true/false or 0/1, got ${describe(value)}`, source);
}
