import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VOC_CLASSES } from '../types.ts';
import { VocDatasetError } from './errors.ts';

/** Reads a label_list.txt: one class name per line (trimmed, blanks skipped), in index order. */
export function readLabelList(file: string): string[] {
  const names = readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new VocDatasetError(file, `class "${n}" is listed twice`);
    seen.add(n);
  }
  if (names.length === 0) throw new VocDatasetError(file, 'lists no class names');
  return names;
}

/**
 * The class list of a dataset and where it came from: `given` if any, else the first
 * label_list.txt found in `dirs` (PaddleDetection's convention), else the 20 VOC classes.
 */
export function resolveClasses(given: readonly string[] | undefined, dirs: string[]): { classes: string[]; source: string } {
  if (given !== undefined) return { classes: [...given], source: 'given' };
  for (const dir of dirs) {
    const file = join(dir, 'label_list.txt');
    if (existsSync(file)) return { classes: readLabelList(file), source: file };
  }
  return { classes: [...VOC_CLASSES], source: 'VOC_CLASSES' };
}
