// Writes the built-in dataset as a real Pascal VOC tree (what PaddleDetection's VOC reader and
// ours read), so the whole pipeline runs on it unchanged:
//   DIR/VOCdevkit/VOC2012/{JPEGImages,Annotations}/<id>.{jpg,xml}
//   DIR/label_list.txt, DIR/test.txt, DIR/trainval.txt   (list lines: "<jpg path> <xml path>")
//   DIR/unlabeled/<id>.jpg and DIR/unlabeled.txt          (images without annotations)
// The list files are written last, each atomically, and deleted first when regenerating, so a
// run that was interrupted leaves no trainval.txt and is never taken for a complete dataset.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import type { VocRecord } from '../types.ts';
import { deriveSeed } from '../random.ts';
import { SHAPES_CLASS_NAMES } from './classes.ts';
import { renderScene } from './scene.ts';
import { vocAnnotationXml } from './voc_xml.ts';

/** Options of generateShapesDataset; counts are images, size is the longer image side in px. */
export interface ShapesDatasetOptions {
  out: string;
  train: number;
  test: number;
  unlabeled: number;
  size: number;
  seed: number;
  /** JPEG encodes in flight while the next image is drawn (default 4). */
  concurrency?: number;
  /** Called after each image is written, with images done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** What generateShapesDataset wrote: the records of each split (absolute paths) and the class list. */
export interface ShapesDataset {
  root: string;
  classes: string[];
  trainval: VocRecord[];
  test: VocRecord[];
  unlabeled: VocRecord[];
}

/** Defaults of `kd make-dataset shapes`. */
export const SHAPES_DEFAULTS = { train: 2000, test: 500, unlabeled: 1000, size: 320, seed: 0 } as const;

/** Bad options or a directory that cannot be written; the message names the option or path. */
export class ShapesDatasetError extends Error {
  override name = 'ShapesDatasetError';
}

const VOC_DIR = 'VOCdevkit/VOC2012';
// Split codes keep each split's per-image seeds apart, so the test images do not depend on
// how many training images were asked for.
const SPLITS = { trainval: 1, test: 2, unlabeled: 3 } as const;

interface Job {
  split: keyof typeof SPLITS;
  index: number;
  id: string;
}

async function writeAtomic(path: string, content: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, content);
  await rename(tmp, path);
}

function checkOptions(o: ShapesDatasetOptions): void {
  for (const key of ['train', 'test', 'unlabeled'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 0) throw new ShapesDatasetError(`${key}: expected an integer >= 0, got ${o[key]}`);
  }
  if (!Number.isInteger(o.size) || o.size < 32) throw new ShapesDatasetError(`size: expected an integer >= 32, got ${o.size}`);
  if (!Number.isInteger(o.seed)) throw new ShapesDatasetError(`seed: expected an integer, got ${o.seed}`);
}

async function writeOne(root: string, job: Job, seed: number, size: number): Promise<VocRecord> {
  const scene = renderScene(deriveSeed(seed, SPLITS[job.split], job.index), size);
  const labeled = job.split !== 'unlabeled';
  const imagePath = labeled ? join(root, VOC_DIR, 'JPEGImages', `${job.id}.jpg`) : join(root, 'unlabeled', `${job.id}.jpg`);
  const annotationPath = labeled ? join(root, VOC_DIR, 'Annotations', `${job.id}.xml`) : null;
  const objects = labeled ? scene.objects.map(({ name, bbox, difficult, truncated }) => ({ name, bbox, difficult, truncated })) : [];
  const jpeg = sharp(scene.pixels, { raw: { width: scene.width, height: scene.height, channels: 3 } }).jpeg({ quality: 90 });
  await jpeg.toFile(imagePath);
  if (annotationPath) await writeFile(annotationPath, vocAnnotationXml(`${job.id}.jpg`, scene.width, scene.height, objects));
  return { id: job.id, imagePath, annotationPath, width: scene.width, height: scene.height, objects };
}

/** Generates the built-in shapes dataset into `out`; same options, byte-identical files. */
export async function generateShapesDataset(options: ShapesDatasetOptions): Promise<ShapesDataset> {
  checkOptions(options);
  const root = resolve(options.out);
  try {
    // Lists first: from here until the end the directory does not look like a complete dataset.
    for (const list of ['trainval.txt', 'test.txt', 'unlabeled.txt']) await rm(join(root, list), { force: true });
    await mkdir(join(root, VOC_DIR, 'JPEGImages'), { recursive: true });
    await mkdir(join(root, VOC_DIR, 'Annotations'), { recursive: true });
    await mkdir(join(root, 'unlabeled'), { recursive: true });
  } catch (error) {
    throw new ShapesDatasetError(`${root}: cannot prepare the output directory: ${(error as Error).message}`, { cause: error });
  }

  const jobs: Job[] = [];
  const pad = (i: number) => String(i).padStart(6, '0');
  for (let i = 0; i < options.train; i++) jobs.push({ split: 'trainval', index: i, id: `train_${pad(i)}` });
  for (let i = 0; i < options.test; i++) jobs.push({ split: 'test', index: i, id: `test_${pad(i)}` });
  for (let i = 0; i < options.unlabeled; i++) jobs.push({ split: 'unlabeled', index: i, id: `unlabeled_${pad(i)}` });

  // Drawing is synchronous; JPEG encoding runs on libvips threads, so a few encodes in flight
  // overlap with drawing the next images.
  const records: VocRecord[] = new Array(jobs.length);
  const limit = Math.max(1, options.concurrency ?? 4);
  const inflight = new Set<Promise<void>>();
  let failure: unknown = null;
  let done = 0;
  for (let j = 0; j < jobs.length && failure === null; j++) {
    const p: Promise<void> = writeOne(root, jobs[j], options.seed, options.size).then(
      (record) => {
        records[j] = record;
        options.onProgress?.(++done, jobs.length);
      },
      (error) => {
        failure ??= new ShapesDatasetError(`${root}: writing ${jobs[j].id}: ${(error as Error).message}`, { cause: error });
      },
    ).finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= limit) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  if (failure !== null) throw failure;

  const trainval = records.filter((_, j) => jobs[j].split === 'trainval');
  const test = records.filter((_, j) => jobs[j].split === 'test');
  const unlabeled = records.filter((_, j) => jobs[j].split === 'unlabeled');
  const listLine = (r: VocRecord) => `${VOC_DIR}/JPEGImages/${r.id}.jpg ${VOC_DIR}/Annotations/${r.id}.xml\n`;
  await writeAtomic(join(root, 'label_list.txt'), SHAPES_CLASS_NAMES.map((c) => `${c}\n`).join(''));
  await writeAtomic(join(root, 'unlabeled.txt'), unlabeled.map((r) => `unlabeled/${r.id}.jpg\n`).join(''));
  await writeAtomic(join(root, 'test.txt'), test.map(listLine).join(''));
  await writeAtomic(join(root, 'trainval.txt'), trainval.map(listLine).join(''));
  return { root, classes: [...SHAPES_CLASS_NAMES], trainval, test, unlabeled };
}
