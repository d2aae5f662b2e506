import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { VocDatasetError } from './errors.ts';

/** Where a VOC dataset's parts are, resolved from the argument a user gave. */
export interface VocLayout {
  /** Absolute folder that list files, their lines and label_list.txt are relative to. */
  root: string;
  /** Absolute VOC20xx-style folders (holding Annotations/ or JPEGImages/), sorted; may be empty. */
  yearDirs: string[];
  /** Absolute path when the argument was itself a list file, else null. */
  listFile: string | null;
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
const isYearDir = (p: string) => isDir(join(p, 'Annotations')) || isDir(join(p, 'JPEGImages'));

function childYearDirs(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .map((name) => join(dir, name))
    .filter((p) => isDir(p) && isYearDir(p));
}

/**
 * Resolves a dataset argument: a VOC20xx folder (Annotations/, JPEGImages/), a VOCdevkit
 * root (VOC2007/, VOC2012/, ...), a folder holding VOCdevkit/ (PaddleDetection's
 * dataset/voc), or a list file inside such a folder. Throws VocDatasetError if it does not exist.
 */
export function resolveVocLayout(path: string): VocLayout {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new VocDatasetError(abs, 'does not exist');
  if (statSync(abs).isFile()) {
    const root = dirname(abs);
    return { root, yearDirs: yearDirsOf(root), listFile: abs };
  }
  return { root: abs, yearDirs: yearDirsOf(abs), listFile: null };
}

function yearDirsOf(dir: string): string[] {
  if (isYearDir(dir)) return [dir];
  const devkit = join(dir, 'VOCdevkit');
  if (isDir(devkit)) return childYearDirs(devkit);
  return childYearDirs(dir);
}
