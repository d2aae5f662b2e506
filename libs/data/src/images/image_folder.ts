import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, parse, resolve } from 'node:path';
import type { VocRecord } from '../types.ts';
import { VocDatasetError } from '../voc/errors.ts';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png']);

/**
 * The images of a folder (or one image file) as annotation-less records, sorted by name:
 * inputs for kd infer and the unlabeled data of distillation. Sizes are 0 until decoded.
 */
export function readImageFolder(path: string): VocRecord[] {
  const root = resolve(path);
  if (!existsSync(root)) throw new VocDatasetError(path, 'does not exist');
  const files = statSync(root).isDirectory()
    ? readdirSync(root).filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())).sort().map((f) => join(root, f))
    : [root];
  if (files.length === 0) throw new VocDatasetError(path, 'holds no .jpg/.jpeg/.png image');
  return files.map((file) => ({ id: parse(file).name, imagePath: file, annotationPath: null, width: 0, height: 0, objects: [] }));
}
