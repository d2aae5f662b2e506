// RandomFlip (PaddleDetection's RandomFlipImage): horizontal mirror with probability `prob`.
import type { DetectionSample } from '../types.ts';
import type { Rng } from '../random.ts';

/** Mirrors the image left-right; in pixel-edge coordinates x1' = w - x2, x2' = w - x1 (boxes.ts). */
export function flipHorizontal(sample: DetectionSample): DetectionSample {
  const { width, height } = sample;
  const src = sample.pixels;
  const pixels = new (src.constructor as new (n: number) => Uint8Array | Float32Array)(src.length);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < width; x++) {
      const s = row + x * 3;
      const d = row + (width - 1 - x) * 3;
      pixels[d] = src[s];
      pixels[d + 1] = src[s + 1];
      pixels[d + 2] = src[s + 2];
    }
  }
  const boxes = new Float32Array(sample.boxes.length);
  for (let k = 0; k < boxes.length; k += 4) {
    boxes[k] = width - sample.boxes[k + 2];
    boxes[k + 1] = sample.boxes[k + 1];
    boxes[k + 2] = width - sample.boxes[k];
    boxes[k + 3] = sample.boxes[k + 3];
  }
  return { ...sample, pixels, boxes };
}

/** Flips when a uniform draw is < prob (ppdet's test direction; default 0.5). */
export function randomFlip(sample: DetectionSample, rng: Rng, prob = 0.5): DetectionSample {
  return rng.next() < prob ? flipHorizontal(sample) : sample;
}
