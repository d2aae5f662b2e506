// Object crops of a VOC split, decoded once and kept in memory as bytes: the built-in dataset's
// ~15k training objects at 48x48x3 are ~100 MB as bytes (4x that as floats), so crops are
// normalised per batch instead.
import sharp from 'sharp';
import { decodeImage, deriveSeed, normalizeInto, Rng, vocToEdges, type DataProblem, type VocRecord } from '@kd/data';

/** Every non-difficult object of a split as a size x size RGB crop with its class index. */
export interface CropSet {
  classes: string[];
  size: number;
  count: number;
  /** [count, size, size, 3] RGB bytes, HWC. */
  pixels: Uint8Array;
  /** [count] class index into `classes`. */
  labels: Int32Array;
  /** Where each crop came from: `<record id>#<object index>`. */
  sources: string[];
  /** Images that could not be decoded (skipped). */
  problems: DataProblem[];
}

export interface CropOptions {
  size: number;
  /** Margin around each box as a fraction of its width/height per side, clipped to the image. */
  context: number;
  /** Images decoded at the same time (sharp works on its own threads). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * The crop window of a VOC box: 1-based inclusive corners -> pixel edges, widened by `context`
 * per side, clipped to the image and rounded outward to whole pixels; [left, top, width, height].
 */
export function cropWindow(bbox: readonly [number, number, number, number], imageWidth: number, imageHeight: number, context: number): [number, number, number, number] {
  const [x1, y1, x2, y2] = vocToEdges([...bbox]);
  const mx = (x2 - x1) * context;
  const my = (y2 - y1) * context;
  const left = Math.max(0, Math.floor(x1 - mx));
  const top = Math.max(0, Math.floor(y1 - my));
  const right = Math.min(imageWidth, Math.ceil(x2 + mx));
  const bottom = Math.min(imageHeight, Math.ceil(y2 + my));
  return [left, top, Math.max(1, right - left), Math.max(1, bottom - top)];
}

/** Decodes each image once and cuts its non-difficult objects out, resized (no aspect keep) to size x size. */
export async function extractCrops(records: readonly VocRecord[], classes: readonly string[], options: CropOptions): Promise<CropSet> {
  const { size, context } = options;
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const perRecord: Array<Array<{ pixels: Buffer; label: number; source: string }>> = new Array(records.length);
  const problems: DataProblem[] = [];
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < records.length) {
      const r = next++;
      const record = records[r];
      const wanted = record.objects.map((o, k) => ({ o, k })).filter(({ o }) => !o.difficult && classIndex.has(o.name));
      perRecord[r] = [];
      if (wanted.length > 0) {
        try {
          const image = await decodeImage(record.imagePath);
          const raw = { raw: { width: image.width, height: image.height, channels: 3 as const } };
          perRecord[r] = await Promise.all(wanted.map(async ({ o, k }) => {
            const [left, top, width, height] = cropWindow(o.bbox, image.width, image.height, context);
            const pixels = await sharp(image.pixels, raw).extract({ left, top, width, height }).resize(size, size, { fit: 'fill' }).raw().toBuffer();
            return { pixels, label: classIndex.get(o.name)!, source: `${record.id}#${k}` };
          }));
        } catch (error) {
          if ((error as Error).name !== 'SampleError') throw error;
          problems.push((error as Error & { problem: DataProblem }).problem);
        }
      }
      done += 1;
      if (done % 200 === 0 || done === records.length) options.onProgress?.(done, records.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  const crops = perRecord.flat();
  const pixels = new Uint8Array(crops.length * size * size * 3);
  crops.forEach((c, i) => pixels.set(c.pixels, i * size * size * 3));
  return {
    classes: [...classes], size, count: crops.length, pixels, labels: Int32Array.from(crops, (c) => c.label), sources: crops.map((c) => c.source), problems,
  };
}

/** A batch of crops: images [count, size, size, 3] normalised (ImageNet mean/std on [0, 1]), labels [count]. */
export interface CropBatch {
  size: number;
  count: number;
  images: Float32Array;
  labels: Int32Array;
}

/** Mirrors one HWC RGB crop left-right into `dst`. */
function flipInto(dst: Uint8Array, src: Uint8Array, size: number): void {
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const s = (y * size + x) * 3;
      const d = (y * size + size - 1 - x) * 3;
      dst[d] = src[s];
      dst[d + 1] = src[s + 1];
      dst[d + 2] = src[s + 2];
    }
  }
}

function assemble(set: CropSet, indices: readonly number[], flips?: readonly boolean[]): CropBatch {
  const n = set.size * set.size * 3;
  const images = new Float32Array(indices.length * n);
  const flipped = new Uint8Array(n);
  indices.forEach((idx, i) => {
    let src = set.pixels.subarray(idx * n, (idx + 1) * n);
    if (flips?.[i]) {
      flipInto(flipped, src, set.size);
      src = flipped;
    }
    normalizeInto(images, i * n, src);
  });
  return { size: set.size, count: indices.length, images, labels: Int32Array.from(indices, (i) => set.labels[i]) };
}

/**
 * Training batches by step number: the crops in a seeded order reshuffled every epoch, batches
 * running across epoch ends, each crop flipped with probability 1/2 (when `flip`). Batch `step`
 * depends only on (seed, step), so a resumed run sees the batches it would have.
 */
export class CropBatcher {
  private epochOrders = new Map<number, number[]>();

  constructor(readonly set: CropSet, readonly batchSize: number, readonly seed: number, readonly flip: boolean) {
    if (set.count === 0) throw new RangeError('no crops to train on');
  }

  private order(epoch: number): number[] {
    let order = this.epochOrders.get(epoch);
    if (order === undefined) {
      order = new Rng(deriveSeed(this.seed, epoch)).shuffle(Array.from({ length: this.set.count }, (_, i) => i));
      if (this.epochOrders.size > 2) this.epochOrders.delete(Math.min(...this.epochOrders.keys()));
      this.epochOrders.set(epoch, order);
    }
    return order;
  }

  /** The batch of step `step` (0-based). */
  batch(step: number): CropBatch {
    const n = this.set.count;
    const indices = Array.from({ length: this.batchSize }, (_, i) => {
      const p = step * this.batchSize + i;
      return this.order(Math.floor(p / n))[p % n];
    });
    const rng = new Rng(deriveSeed(this.seed, 0x666c6970, step));
    return assemble(this.set, indices, this.flip ? indices.map(() => rng.bool()) : undefined);
  }
}

/** Every crop once, in order, unflipped (evaluation). */
export function* evalBatches(set: CropSet, batchSize: number): Generator<CropBatch> {
  for (let start = 0; start < set.count; start += batchSize) {
    yield assemble(set, Array.from({ length: Math.min(batchSize, set.count - start) }, (_, i) => start + i));
  }
}
