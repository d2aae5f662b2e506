// Resizing for RandomShape (training, one size per batch) and for evaluation (fixed size),
// without keeping the aspect ratio, as PaddleDetection's YOLOv3 reader.
import type { Rng } from '../random.ts';

/** PaddleDetection's multi-scale training sizes, 320..608 step 32. */
export const PPDET_TRAIN_SIZES: readonly number[] = [320, 352, 384, 416, 448, 480, 512, 544, 576, 608];

/** RandomShape's choice: one size per batch, uniformly from `sizes`. */
export function pickSize(rng: Rng, sizes: readonly number[]): number {
  return rng.pick(sizes);
}

/**
 * Bilinear resize of RGB HWC pixels to outW x outH floats, with OpenCV's half-pixel centres
 * (src = (dst + 0.5) * in / out - 0.5, clamped at the borders). Returns [outH * outW * 3].
 */
export function resizeBilinear(src: Uint8Array | Float32Array, w: number, h: number, outW: number, outH: number): Float32Array {
  const out = new Float32Array(outW * outH * 3);
  const sx = w / outW;
  const sy = h / outH;
  // Per output column: left source column and weight (same for every row).
  const x0s = new Int32Array(outW);
  const x1s = new Int32Array(outW);
  const fxs = new Float32Array(outW);
  for (let x = 0; x < outW; x++) {
    const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
    x0s[x] = Math.floor(fx);
    x1s[x] = Math.min(x0s[x] + 1, w - 1);
    fxs[x] = fx - x0s[x];
  }
  for (let y = 0; y < outH; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const wy = fy - y0;
    const r0 = y0 * w * 3;
    const r1 = y1 * w * 3;
    const o = y * outW * 3;
    for (let x = 0; x < outW; x++) {
      const a = x0s[x] * 3;
      const b = x1s[x] * 3;
      const wx = fxs[x];
      for (let c = 0; c < 3; c++) {
        const top = src[r0 + a + c] + (src[r0 + b + c] - src[r0 + a + c]) * wx;
        const bottom = src[r1 + a + c] + (src[r1 + b + c] - src[r1 + a + c]) * wx;
        out[o + x * 3 + c] = top + (bottom - top) * wy;
      }
    }
  }
  return out;
}
