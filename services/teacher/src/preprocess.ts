// Turns a validated request's images into the network's input: float32 NHWC values, either
// decoded from the wire tensor (checked finite) or decoded from JPEG/PNG files, resized to
// the spec's input size and normalised as the spec says.
import sharp from 'sharp';
import { resizeBilinear } from '@kd/data';
import { decodeTensor } from '@kd/engine';
import { ChannelOrder, Dtype, type Preprocessing } from '@kd/proto';
import { InvalidRequestError } from './errors.ts';
import type { RequestImages } from './validate.ts';

/** A batch of network inputs: values [n, height, width, 3] row-major. */
export interface ImageBatch {
  values: Float32Array;
  n: number;
  height: number;
  width: number;
}

export interface PreprocessTarget {
  /** Network input size in pixels. */
  height: number;
  width: number;
  preprocessing: Preprocessing;
}

/** The request's images as network input; throws InvalidRequestError on NaN/Inf or an undecodable file. */
export async function prepareImages(images: RequestImages, n: number, height: number, width: number, target: PreprocessTarget): Promise<ImageBatch> {
  if (images.kind === 'tensor') {
    const t = images.tensor;
    const values = decodeTensor({ shape: t.shape, dtype: t.dtype === Dtype.DTYPE_FLOAT16 ? 'float16' : 'float32', data: t.data });
    checkFinite(values, [n, height, width, 3]);
    return { values, n, height, width };
  }
  const values = new Float32Array(n * target.height * target.width * 3);
  const per = target.height * target.width * 3;
  // sharp decodes on libuv's thread pool, so the files of a request decode in parallel.
  await Promise.all(images.files.map(async (file, i) => {
    const { pixels, width: w, height: h } = await decodeFile(file, i);
    const resized = resizeBilinear(pixels, w, h, target.width, target.height);
    normalizeInto(values, i * per, resized, target.preprocessing);
  }));
  return { values, n, height: target.height, width: target.width };
}

function checkFinite(values: Float32Array, shape: number[]): void {
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i])) continue;
    const [, h, w] = shape;
    const c = i % 3;
    const x = Math.floor(i / 3) % w;
    const y = Math.floor(i / (3 * w)) % h;
    const img = Math.floor(i / (3 * w * h));
    throw new InvalidRequestError('InferRequest.images.data', `element ${i} (image ${img}, y ${y}, x ${x}, channel ${c}) is ${values[i]}; images must be finite`);
  }
}

async function decodeFile(file: Uint8Array, i: number): Promise<{ pixels: Uint8Array; width: number; height: number }> {
  try {
    // sRGB 8-bit whatever the file holds (grey, palette, 16-bit PNG, CMYK JPEG); failOn
    // 'warning' refuses truncated files instead of returning half-grey images.
    const { data, info } = await sharp(file, { failOn: 'warning' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch (error) {
    throw new InvalidRequestError(`InferRequest.encoded.images[${i}]`, `cannot decode image (JPEG or PNG expected): ${(error as Error).message}`, { cause: error });
  }
}

/** Writes (pixel / scale - mean[c]) / std[c] for RGB HWC 0..255 `src` into dst at `offset`, in the spec's channel order. */
export function normalizeInto(dst: Float32Array, offset: number, src: Float32Array, p: Preprocessing): void {
  const order = p.channelOrder === ChannelOrder.CHANNEL_ORDER_BGR ? [2, 1, 0] : [0, 1, 2];
  const mul = [0, 1, 2].map((c) => 1 / (p.scale * p.std[c]));
  const add = [0, 1, 2].map((c) => -p.mean[c] / p.std[c]);
  for (let i = 0; i < src.length; i += 3) {
    for (let c = 0; c < 3; c++) dst[offset + i + c] = src[i + order[c]] * mul[c] + add[c];
  }
}
