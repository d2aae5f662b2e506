// Mixup (PaddleDetection's MixupImage): blend two images with a Beta(alpha, beta) weight.
import type { DetectionSample } from '../types.ts';
import type { Rng } from '../random.ts';

/** Mixup's parameters; PaddleDetection's YOLOv3 uses alpha = beta = 1.5. */
export interface MixupOptions {
  alpha: number;
  beta: number;
}

export const MIXUP_DEFAULTS: MixupOptions = { alpha: 1.5, beta: 1.5 };

/**
 * Blends `a` (weight w ~ Beta(alpha, beta), clipped to [0, 1]) with `b` (1 - w) on a canvas of
 * the larger width and height, both at the top-left corner; boxes are concatenated and the
 * object scores become w and 1 - w. w >= 1 returns `a`, w <= 0 returns `b` (unchanged).
 * Unlike ppdet the blend stays float (ppdet truncates to uint8).
 */
export function mixup(a: DetectionSample, b: DetectionSample, rng: Rng, options: MixupOptions = MIXUP_DEFAULTS): DetectionSample {
  const w = Math.max(0, Math.min(1, rng.beta(options.alpha, options.beta)));
  if (w >= 1) return a;
  if (w <= 0) return b;
  return blend(a, b, w);
}

function concat<T extends Float32Array | Int32Array | Uint8Array>(x: T, y: T): T {
  const out = new (x.constructor as new (n: number) => T)(x.length + y.length);
  out.set(x);
  out.set(y, x.length);
  return out;
}

/** The mixup blend itself for a given weight w of `a` (exported for tests). */
export function blend(a: DetectionSample, b: DetectionSample, w: number): DetectionSample {
  const width = Math.max(a.width, b.width);
  const height = Math.max(a.height, b.height);
  const pixels = new Float32Array(width * height * 3);
  const add = (s: DetectionSample, k: number) => {
    for (let y = 0; y < s.height; y++) {
      const src = y * s.width * 3;
      const dst = y * width * 3;
      for (let i = 0; i < s.width * 3; i++) pixels[dst + i] += s.pixels[src + i] * k;
    }
  };
  add(a, w);
  add(b, 1 - w);
  const scores = new Float32Array(a.scores.length + b.scores.length);
  a.scores.forEach((s, i) => (scores[i] = s * w));
  b.scores.forEach((s, i) => (scores[a.scores.length + i] = s * (1 - w)));
  return {
    id: `${a.id}+${b.id}`,
    pixels,
    width,
    height,
    boxes: concat(a.boxes, b.boxes),
    classes: concat(a.classes, b.classes),
    difficult: concat(a.difficult, b.difficult),
    scores,
  };
}
