// NormalizeImage as PaddleDetection's YOLOv3 reader: scale to [0, 1], then ImageNet mean/std.
import { IMAGENET_MEAN, IMAGENET_STD } from '../types.ts';

/** Writes (src / 255 - mean) / std per channel into dst at `offset`; src is RGB HWC 0..255. */
export function normalizeInto(dst: Float32Array, offset: number, src: Float32Array | Uint8Array): void {
  const scale = IMAGENET_STD.map((s) => 1 / (255 * s));
  const shift = IMAGENET_MEAN.map((m, c) => m / IMAGENET_STD[c]);
  for (let i = 0; i < src.length; i += 3) {
    dst[offset + i] = src[i] * scale[0] - shift[0];
    dst[offset + i + 1] = src[i + 1] * scale[1] - shift[1];
    dst[offset + i + 2] = src[i + 2] * scale[2] - shift[2];
  }
}
