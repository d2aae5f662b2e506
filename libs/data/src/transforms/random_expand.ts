// RandomExpand (PaddleDetection's): place the image at a random offset on a larger canvas of
// the ImageNet mean colour, so objects get smaller (zoom out).
import { IMAGENET_MEAN, type DetectionSample } from '../types.ts';
import type { Rng } from '../random.ts';

export interface RandomExpandOptions {
  /** Largest canvas side / image side. */
  ratio: number;
  /** Skipped when a uniform draw is < prob (so applied with probability 1 - prob, as ppdet). */
  prob: number;
  /** Canvas colour, 0..255 RGB. */
  fill: [number, number, number];
}

export const RANDOM_EXPAND_DEFAULTS: RandomExpandOptions = {
  ratio: 4,
  prob: 0.5,
  fill: [IMAGENET_MEAN[0] * 255, IMAGENET_MEAN[1] * 255, IMAGENET_MEAN[2] * 255],
};

/** Places the image at (x, y) on a width x height canvas filled with `fill`; boxes shift by (x, y). */
export function expandTo(sample: DetectionSample, width: number, height: number, x: number, y: number, fill: readonly number[]): DetectionSample {
  const pixels = new Float32Array(width * height * 3);
  for (let i = 0; i < pixels.length; i += 3) {
    pixels[i] = fill[0];
    pixels[i + 1] = fill[1];
    pixels[i + 2] = fill[2];
  }
  const rowLen = sample.width * 3;
  for (let r = 0; r < sample.height; r++) {
    pixels.set(sample.pixels.subarray(r * rowLen, (r + 1) * rowLen), ((y + r) * width + x) * 3);
  }
  const boxes = sample.boxes.map((v, i) => v + (i % 2 === 0 ? x : y));
  return { ...sample, pixels, width, height, boxes };
}

/** Random zoom-out: canvas sides x uniform(1, ratio) (floored), integer offset uniform in [0, extra). */
export function randomExpand(sample: DetectionSample, rng: Rng, options: RandomExpandOptions = RANDOM_EXPAND_DEFAULTS): DetectionSample {
  if (rng.next() < options.prob) return sample;
  const ratio = rng.uniform(1, options.ratio);
  const height = Math.floor(sample.height * ratio);
  const width = Math.floor(sample.width * ratio);
  if (!(height > sample.height) || !(width > sample.width)) return sample;
  const y = rng.int(0, height - sample.height);
  const x = rng.int(0, width - sample.width);
  return expandTo(sample, width, height, x, y, options.fill);
}
