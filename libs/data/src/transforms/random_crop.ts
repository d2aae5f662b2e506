// RandomCrop (PaddleDetection's SSD-style crop, zoom in): pick a minimum-IoU threshold (or "no
// crop") in random order; for a threshold, try up to num_attempts random crop windows and take
// the first whose IoU with some box reaches it and that keeps at least one box centre.
// Boxes whose centre falls outside the window are dropped, the others clipped to it.
import type { DetectionSample } from '../types.ts';
import type { Rng } from '../random.ts';
import { selectObjects } from './boxes.ts';

export interface RandomCropOptions {
  /** [min, max] width/height ratio of the window (also limited by the scale, as ppdet). */
  aspectRatio: [number, number];
  /** Minimum IoU with some box; ppdet's list. */
  thresholds: number[];
  /** [min, max] side of the window relative to the image (sqrt of the area ratio). */
  scaling: [number, number];
  numAttempts: number;
  /** Keep the image uncropped as one of the choices. */
  allowNoCrop: boolean;
}

export const RANDOM_CROP_DEFAULTS: RandomCropOptions = {
  aspectRatio: [0.5, 2],
  thresholds: [0, 0.1, 0.3, 0.5, 0.7, 0.9],
  scaling: [0.3, 1],
  numAttempts: 50,
  allowNoCrop: true,
};

/** IoU of box k of `boxes` (pixel-edge [x1, y1, x2, y2]) with the window. */
function iouWith(boxes: Float32Array, k: number, win: number[]): number {
  const [x1, y1, x2, y2] = boxes.subarray(k * 4, k * 4 + 4);
  const iw = Math.min(x2, win[2]) - Math.max(x1, win[0]);
  const ih = Math.min(y2, win[3]) - Math.max(y1, win[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / ((x2 - x1) * (y2 - y1) + (win[2] - win[0]) * (win[3] - win[1]) - inter + 1e-10);
}

/** Indices of boxes with centre in [win.x1, win.x2) x [win.y1, win.y2) and a non-empty clipped box. */
function keptByWindow(boxes: Float32Array, win: number[]): number[] {
  const keep: number[] = [];
  for (let k = 0; k < boxes.length / 4; k++) {
    const [x1, y1, x2, y2] = boxes.subarray(k * 4, k * 4 + 4);
    const cx = (x1 + x2) / 2;
    const cy = (y1 + y2) / 2;
    const inside = cx >= win[0] && cx < win[2] && cy >= win[1] && cy < win[3];
    const nonEmpty = Math.max(x1, win[0]) < Math.min(x2, win[2]) && Math.max(y1, win[1]) < Math.min(y2, win[3]);
    if (inside && nonEmpty) keep.push(k);
  }
  return keep;
}

/** Crops to the integer window [x1, y1, x2, y2] keeping the objects in `keep`, boxes clipped and shifted. */
function cropTo(sample: DetectionSample, win: number[], keep: number[]): DetectionSample {
  const [wx1, wy1, wx2, wy2] = win;
  const width = wx2 - wx1;
  const height = wy2 - wy1;
  const pixels = new (sample.pixels.constructor as new (n: number) => Uint8Array | Float32Array)(width * height * 3);
  for (let r = 0; r < height; r++) {
    const src = ((wy1 + r) * sample.width + wx1) * 3;
    pixels.set(sample.pixels.subarray(src, src + width * 3), r * width * 3);
  }
  const kept = selectObjects(sample, keep);
  const boxes = kept.boxes;
  for (let k = 0; k < boxes.length; k += 4) {
    boxes[k] = Math.max(boxes[k], wx1) - wx1;
    boxes[k + 1] = Math.max(boxes[k + 1], wy1) - wy1;
    boxes[k + 2] = Math.min(boxes[k + 2], wx2) - wx1;
    boxes[k + 3] = Math.min(boxes[k + 3], wy2) - wy1;
  }
  return { ...kept, pixels, width, height };
}

/**
 * Crops to the integer window [x1, y1, x2, y2] (pixel edges): keeps the boxes whose centre is
 * in the half-open window, clipped to it; null when no box would be kept.
 */
export function cropWindow(sample: DetectionSample, win: number[]): DetectionSample | null {
  const keep = keptByWindow(sample.boxes, win);
  return keep.length > 0 ? cropTo(sample, win, keep) : null;
}

/** Random IoU-constrained crop; images without boxes are returned unchanged (as ppdet). */
export function randomCrop(sample: DetectionSample, rng: Rng, options: RandomCropOptions = RANDOM_CROP_DEFAULTS): DetectionSample {
  const n = sample.boxes.length / 4;
  if (n === 0) return sample;
  const { width: w, height: h } = sample;
  const choices: Array<number | 'no_crop'> = [...options.thresholds];
  if (options.allowNoCrop) choices.push('no_crop');
  rng.shuffle(choices);
  for (const thresh of choices) {
    if (thresh === 'no_crop') return sample;
    for (let attempt = 0; attempt < options.numAttempts; attempt++) {
      const scale = rng.uniform(options.scaling[0], options.scaling[1]);
      const ar = rng.uniform(Math.max(options.aspectRatio[0], scale * scale), Math.min(options.aspectRatio[1], 1 / (scale * scale)));
      const cropH = Math.floor((h * scale) / Math.sqrt(ar));
      const cropW = Math.floor(w * scale * Math.sqrt(ar));
      if (cropW < 1 || cropH < 1) continue;
      // ppdet draws randint(0, h - crop_h); a window as large as the image has offset 0.
      const y = h - cropH > 0 ? rng.int(0, h - cropH) : 0;
      const x = w - cropW > 0 ? rng.int(0, w - cropW) : 0;
      const win = [x, y, x + cropW, y + cropH];
      let best = 0;
      for (let k = 0; k < n; k++) best = Math.max(best, iouWith(sample.boxes, k, win));
      if (best < thresh) continue;
      const cropped = cropWindow(sample, win);
      if (cropped) return cropped;
    }
  }
  return sample;
}
