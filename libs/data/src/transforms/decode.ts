// Decode: image file -> RGB bytes, record -> DetectionSample (PaddleDetection's DecodeImage).
import { access } from 'node:fs/promises';
import sharp, { type OutputInfo } from 'sharp';
import type { DetectionSample, VocRecord } from '../types.ts';
import { SampleError } from './errors.ts';
import { nonEmptyBoxes, selectObjects, vocToEdges } from './boxes.ts';

/** Decodes an image file to RGB, HWC, 0..255 bytes; throws SampleError ('missing-file' | 'corrupt-image') naming the file. */
export async function decodeImage(path: string): Promise<{ pixels: Uint8Array; width: number; height: number }> {
  try {
    await access(path);
  } catch (error) {
    throw new SampleError({ file: path, kind: 'missing-file', message: 'image file not found' }, { cause: error });
  }
  let data: Buffer;
  let info: OutputInfo;
  try {
    // sharp fails on libjpeg warnings too (truncated files), which is what we want here.
    ({ data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true }));
  } catch (error) {
    throw new SampleError({ file: path, kind: 'corrupt-image', message: `cannot decode image: ${(error as Error).message}` }, { cause: error });
  }
  const { width, height, channels } = info;
  const pixels = new Uint8Array(width * height * 3);
  if (channels === 3) {
    pixels.set(data);
  } else {
    // Greyscale JPEGs exist in VOC-like sets: repeat the one channel.
    for (let p = 0; p < width * height; p++) pixels.fill(data[p * channels], p * 3, p * 3 + 3);
  }
  return { pixels, width, height };
}

/**
 * Decodes a record into a sample: boxes converted to pixel-edge coordinates (boxes.ts), clipped
 * to the decoded image, zero-area ones dropped; difficult objects are kept (as PaddleDetection
 * trains on them). `classIndex` maps class names to indices.
 */
export async function decodeRecord(record: VocRecord, classIndex: ReadonlyMap<string, number>): Promise<DetectionSample> {
  const { pixels, width, height } = await decodeImage(record.imagePath);
  const n = record.objects.length;
  const boxes = new Float32Array(n * 4);
  const classes = new Int32Array(n);
  const difficult = new Uint8Array(n);
  record.objects.forEach((o, k) => {
    const c = classIndex.get(o.name);
    if (c === undefined) {
      throw new SampleError({ file: record.annotationPath ?? record.imagePath, kind: 'unknown-class', message: `unknown class "${o.name}"` });
    }
    const [x1, y1, x2, y2] = vocToEdges(o.bbox);
    boxes.set([Math.max(0, x1), Math.max(0, y1), Math.min(width, x2), Math.min(height, y2)], k * 4);
    classes[k] = c;
    difficult[k] = o.difficult ? 1 : 0;
  });
  const sample: DetectionSample = {
    id: record.id, pixels, width, height, boxes, classes, difficult, scores: new Float32Array(n).fill(1), labeled: record.annotationPath !== null,
  };
  const keep = nonEmptyBoxes(boxes);
  return keep.length === n ? sample : selectObjects(sample, keep);
}
