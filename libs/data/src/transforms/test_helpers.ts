// Tiny hand-made samples for the transform tests.
import type { DetectionSample } from '../types.ts';

/** A w x h sample whose pixel (x, y) channel c is 100 * y + 10 * x + c (so positions can be read back). */
export function gridSample(w: number, h: number, boxes: number[] = [], id = 'grid'): DetectionSample {
  const pixels = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) pixels[(y * w + x) * 3 + c] = 100 * y + 10 * x + c;
  const n = boxes.length / 4;
  return {
    id,
    pixels,
    width: w,
    height: h,
    boxes: Float32Array.from(boxes),
    classes: Int32Array.from({ length: n }, (_, k) => k),
    difficult: new Uint8Array(n),
    scores: new Float32Array(n).fill(1),
  };
}

/** The RGB triple at (x, y). */
export function px(s: DetectionSample, x: number, y: number): number[] {
  const i = (y * s.width + x) * 3;
  return [s.pixels[i], s.pixels[i + 1], s.pixels[i + 2]];
}
