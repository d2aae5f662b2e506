// ColorDistort as PaddleDetection's YOLOv3 reader runs it (random_apply: the four distortions
// in a random order, each applied with probability 1 - prob), with ppdet's exact arithmetic:
// brightness adds delta, contrast multiplies by delta, saturation blends with the luma, hue
// rotates the I/Q plane of YIQ. Values are not clipped (ppdet does not clip either).
//
// One deliberate difference: ppdet rotates hue by delta * pi radians with delta in [-18, 18],
// i.e. a near-uniform random hue, which would erase the colour cue that separates our
// red/blue classes. We read delta as degrees (hue: 'degrees', the default); hue: 'ppdet'
// restores ppdet's behaviour. ppdet's brightness (+0.5..1.5 grey levels) is as weak as in ppdet.
import type { DetectionSample } from '../types.ts';
import type { Rng } from '../random.ts';

/** [low, high, prob] per distortion; a distortion is skipped when a uniform draw is < prob. */
export interface ColorDistortOptions {
  hue: [number, number, number];
  saturation: [number, number, number];
  contrast: [number, number, number];
  brightness: [number, number, number];
  /** How hue deltas are read: degrees, or ppdet's delta * pi radians. */
  hueUnit: 'degrees' | 'ppdet';
}

export const COLOR_DISTORT_DEFAULTS: ColorDistortOptions = {
  hue: [-18, 18, 0.5],
  saturation: [0.5, 1.5, 0.5],
  contrast: [0.5, 1.5, 0.5],
  brightness: [0.5, 1.5, 0.5],
  hueUnit: 'degrees',
};

type Op = 'brightness' | 'contrast' | 'saturation' | 'hue';

/** The RGB -> RGB matrix (row-major 3x3) of a YIQ hue rotation by `angle` radians. */
export function hueMatrix(angle: number): number[] {
  const u = Math.cos(angle);
  const w = Math.sin(angle);
  const toYiq = [0.299, 0.587, 0.114, 0.596, -0.274, -0.321, 0.211, -0.523, 0.311];
  const fromYiq = [1.0, 0.956, 0.621, 1.0, -0.272, -0.647, 1.0, -1.107, 1.705];
  const rot = [1, 0, 0, 0, u, -w, 0, w, u];
  const mul = (a: number[], b: number[]) =>
    Array.from({ length: 9 }, (_, k) => {
      const r = Math.floor(k / 3);
      const c = k % 3;
      return a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
    });
  return mul(mul(fromYiq, rot), toYiq);
}

function apply(op: Op, px: Float32Array, delta: number, hueUnit: ColorDistortOptions['hueUnit']): void {
  if (op === 'brightness') {
    for (let i = 0; i < px.length; i++) px[i] += delta;
  } else if (op === 'contrast') {
    for (let i = 0; i < px.length; i++) px[i] *= delta;
  } else if (op === 'saturation') {
    for (let i = 0; i < px.length; i += 3) {
      const grey = (px[i] * 0.299 + px[i + 1] * 0.587 + px[i + 2] * 0.114) * (1 - delta);
      px[i] = px[i] * delta + grey;
      px[i + 1] = px[i + 1] * delta + grey;
      px[i + 2] = px[i + 2] * delta + grey;
    }
  } else {
    const m = hueMatrix(hueUnit === 'degrees' ? (delta * Math.PI) / 180 : delta * Math.PI);
    for (let i = 0; i < px.length; i += 3) {
      const r = px[i];
      const g = px[i + 1];
      const b = px[i + 2];
      px[i] = m[0] * r + m[1] * g + m[2] * b;
      px[i + 1] = m[3] * r + m[4] * g + m[5] * b;
      px[i + 2] = m[6] * r + m[7] * g + m[8] * b;
    }
  }
}

/** Random photometric distortion; returns a sample with Float32 pixels (a copy when the input was Uint8). */
export function colorDistort(sample: DetectionSample, rng: Rng, options: ColorDistortOptions = COLOR_DISTORT_DEFAULTS): DetectionSample {
  const pixels = sample.pixels instanceof Float32Array ? sample.pixels : Float32Array.from(sample.pixels);
  const order = rng.shuffle<Op>(['brightness', 'contrast', 'saturation', 'hue']);
  for (const op of order) {
    const [low, high, prob] = options[op];
    if (rng.next() < prob) continue;
    apply(op, pixels, rng.uniform(low, high), options.hueUnit);
  }
  return { ...sample, pixels };
}
