import { existsSync, readdirSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { VocDatasetError } from '../voc/errors.ts';
import { resolveVocLayout } from '../voc/layout.ts';
import { writeFilesAtomic } from './atomic_write.ts';
import { Rng } from '../random.ts';

export interface SplitVocOptions {
  /** Fraction of images that go to trainval.txt, 0 < ratio < 1 (the notebook's 0.9). */
  ratio: number;
  /** PRNG seed (integer); the same seed on the same files gives the same lists. */
  seed: number;
}

export interface SplitVocResult {
  root: string;
  trainvalPath: string;
  testPath: string;
  trainval: number;
  test: number;
  /** Images left out, with why (no annotation, whitespace in the name). */
  skipped: Array<{ image: string; reason: string }>;
}

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png']);

// List file lines are split on whitespace and always use '/', whatever the OS.
const listPath = (root: string, p: string) => relative(root, p).split(sep).join('/');

/**
 * Splits a VOC dataset like the PaddleDetection notebook: lists JPEGImages of every year folder
 * (sorted, so the order does not depend on the file system), shuffles them with Rng(seed),
 * puts the first floor(ratio * n) in trainval.txt and the rest in test.txt, at the dataset root,
 * lines `<image> <xml>` relative to it. Images without an annotation are skipped. Atomic writes.
 */
export function splitVoc(dir: string, options: SplitVocOptions): SplitVocResult {
  if (!(options.ratio > 0 && options.ratio < 1)) throw new RangeError(`ratio must be in (0, 1), got ${options.ratio}`);
  if (!Number.isInteger(options.seed)) throw new RangeError(`seed must be an integer, got ${options.seed}`);
  const layout = resolveVocLayout(dir);
  if (layout.listFile !== null) throw new VocDatasetError(layout.listFile, 'expected a dataset folder, got a file');
  const images = layout.yearDirs.map((d) => join(d, 'JPEGImages')).filter((d) => existsSync(d));
  if (images.length === 0) throw new VocDatasetError(layout.root, 'no JPEGImages/ folder found (in it, in VOC20xx/ folders, or under VOCdevkit/)');
  const lines: string[] = [];
  const skipped: SplitVocResult['skipped'] = [];
  for (const imageDir of images) {
    for (const name of readdirSync(imageDir).sort()) {
      const ext = extname(name);
      if (!IMAGE_EXT.has(ext.toLowerCase())) continue;
      const image = join(imageDir, name);
      const annotation = join(imageDir, '..', 'Annotations', `${name.slice(0, -ext.length)}.xml`);
      if (/\s/.test(name)) skipped.push({ image, reason: 'whitespace in the file name (list lines are split on whitespace)' });
      else if (!existsSync(annotation)) skipped.push({ image, reason: `no annotation ${annotation}` });
      else lines.push(`${listPath(layout.root, image)} ${listPath(layout.root, annotation)}\n`);
    }
  }
  const order = new Rng(options.seed).shuffle([...lines]);
  const cut = Math.floor(options.ratio * order.length);
  const trainvalPath = join(layout.root, 'trainval.txt');
  const testPath = join(layout.root, 'test.txt');
  writeFilesAtomic([
    { path: trainvalPath, content: order.slice(0, cut).join('') },
    { path: testPath, content: order.slice(cut).join('') },
  ]);
  return { root: layout.root, trainvalPath, testPath, trainval: cut, test: order.length - cut, skipped };
}
