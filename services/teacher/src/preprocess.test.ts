import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { normalizeInto as kdNormalize, resizeBilinear } from '@kd/data';
import { float32ToFloat16 } from '@kd/engine';
import { ChannelOrder, Dtype, type Preprocessing } from '@kd/proto';
import { InvalidRequestError } from './errors.ts';
import { normalizeInto, prepareImages } from './preprocess.ts';

const imagenet: Preprocessing = { channelOrder: ChannelOrder.CHANNEL_ORDER_RGB, scale: 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
const target = { height: 32, width: 32, preprocessing: imagenet };

/** A 48x40 RGB gradient and its PNG. */
async function png(): Promise<{ file: Buffer; pixels: Uint8Array }> {
  const w = 48;
  const h = 40;
  const pixels = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 7) % 256);
  return { file: await sharp(pixels, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer(), pixels };
}

test('PNG files are decoded, resized to the input size and normalised as the data pipeline does', async () => {
  const { file, pixels } = await png();
  const batch = await prepareImages({ kind: 'encoded', files: [file, file] }, 2, 32, 32, target);
  assert.deepEqual([batch.n, batch.height, batch.width, batch.values.length], [2, 32, 32, 2 * 32 * 32 * 3]);
  const expected = new Float32Array(32 * 32 * 3);
  kdNormalize(expected, 0, resizeBilinear(pixels, 48, 40, 32, 32));
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(batch.values[i] - expected[i]) < 1e-5, `${i}`);
  assert.deepEqual(batch.values.subarray(expected.length), expected, 'second image the same');
});

test('grey images become RGB; BGR specs swap channels', async () => {
  const grey = await sharp(Buffer.alloc(32 * 32, 128), { raw: { width: 32, height: 32, channels: 1 } }).png().toBuffer();
  const batch = await prepareImages({ kind: 'encoded', files: [grey] }, 1, 32, 32, target);
  assert.ok(Math.abs(batch.values[0] - (128 / 255 - 0.485) / 0.229) < 1e-5);
  assert.ok(Math.abs(batch.values[2] - (128 / 255 - 0.406) / 0.225) < 1e-5);
  const out = new Float32Array(3);
  normalizeInto(out, 0, Float32Array.from([10, 20, 30]), { channelOrder: ChannelOrder.CHANNEL_ORDER_BGR, scale: 1, mean: [1, 2, 3], std: [1, 1, 2] });
  assert.deepEqual([...out], [29, 18, 3.5]);
});

test('corrupt or truncated files are INVALID_ARGUMENT naming the file index', async () => {
  const { file } = await png();
  for (const bad of [Buffer.from('not an image at all'), file.subarray(0, file.length - 40)]) {
    await assert.rejects(prepareImages({ kind: 'encoded', files: [file, bad] }, 2, 32, 32, target), (e: Error) =>
      e instanceof InvalidRequestError && e.field === 'InferRequest.encoded.images[1]' && /cannot decode image/.test(e.message));
  }
});

test('tensors are decoded from fp32 or fp16; NaN and Inf are refused with their position', async () => {
  const v = Float32Array.from({ length: 2 * 32 * 32 * 3 }, (_, i) => (i % 11) / 4 - 1);
  const f32 = { shape: [2, 32, 32, 3], dtype: Dtype.DTYPE_FLOAT32, data: Buffer.from(v.buffer) };
  assert.deepEqual((await prepareImages({ kind: 'tensor', tensor: f32, dtype: Dtype.DTYPE_FLOAT32 }, 2, 32, 32, target)).values, v);
  const h = float32ToFloat16(v);
  const f16 = { shape: [2, 32, 32, 3], dtype: Dtype.DTYPE_FLOAT16, data: Buffer.from(h.buffer) };
  assert.deepEqual((await prepareImages({ kind: 'tensor', tensor: f16, dtype: Dtype.DTYPE_FLOAT16 }, 2, 32, 32, target)).values, v, 'quarters are exact in fp16');
  for (const bad of [NaN, Infinity]) {
    const w = v.slice();
    w[32 * 32 * 3 + 5 * 32 * 3 + 7 * 3 + 2] = bad; // image 1, y 5, x 7, channel 2
    const t = { shape: [2, 32, 32, 3], dtype: Dtype.DTYPE_FLOAT32, data: Buffer.from(w.buffer) };
    await assert.rejects(prepareImages({ kind: 'tensor', tensor: t, dtype: Dtype.DTYPE_FLOAT32 }, 2, 32, 32, target), (e: Error) =>
      e instanceof InvalidRequestError && e.field === 'InferRequest.images.data' && new RegExp(`image 1, y 5, x 7, channel 2\\) is ${bad}`).test(e.message));
  }
});
