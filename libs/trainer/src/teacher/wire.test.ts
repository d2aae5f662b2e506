import { test } from 'node:test';
import assert from 'node:assert/strict';
import { float32ToFloat16, initBackend } from '@kd/engine';
import { Dtype, type Tensor } from '@kd/proto';
import { denseValues, imagesTensor, outputArrays, outputTensors } from './wire.ts';

await initBackend('cpu', () => {});

const bytes = (a: Float32Array | Uint16Array | Uint32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

test('images travel as fp16 or fp32 little-endian bytes with their shape', () => {
  const images = new Float32Array([0.5, -1.25, 2, 1 / 3]);
  const fp32 = imagesTensor(images, [1, 1, 1, 4], 'float32');
  assert.equal(fp32.dtype, Dtype.DTYPE_FLOAT32);
  assert.deepEqual(new Float32Array(new Uint8Array(fp32.data).buffer), images);
  const fp16 = imagesTensor(images, [1, 1, 1, 4], 'float16');
  assert.equal(fp16.dtype, Dtype.DTYPE_FLOAT16);
  assert.deepEqual(fp16.data, bytes(float32ToFloat16(images)));
});

test('a sparse answer densifies by hand: kept anchors as sent, left-out anchors get objectness logit -30 and zeros', () => {
  // one cell, 2 anchors x (5 + 1 class) = 12 channels; only anchor 1 (elements 6..11) was sent
  const values = new Float32Array([1, 2, 3, 4, 5, 6]);
  const t: Tensor = { shape: [1, 1, 1, 12], dtype: Dtype.DTYPE_FLOAT32, data: bytes(values), sparse: { indices: bytes(new Uint32Array([6, 7, 8, 9, 10, 11])) } };
  assert.deepEqual([...denseValues(t, 6)], [0, 0, 0, 0, -30, 0, 1, 2, 3, 4, 5, 6]);
});

test('outputs of the wrong shape for the spec are refused, naming the scale', () => {
  const head = { numClasses: 1, strides: [32, 16, 8] as [number, number, number], anchors: [[1, 1], [2, 2]] as Array<[number, number]>, anchorMasks: [[0], [1], [0]] };
  const dense = (shape: number[]) => ({ shape, dtype: Dtype.DTYPE_FLOAT32, data: bytes(new Float32Array(shape.reduce((a, b) => a * b, 1))) });
  const good = [dense([1, 2, 2, 6]), dense([1, 4, 4, 6]), dense([1, 8, 8, 6])];
  const tensors = outputTensors(outputArrays(good, head, [1, 64, 64, 3]));
  assert.deepEqual(tensors.map((x) => x.shape), [[1, 2, 2, 6], [1, 4, 4, 6], [1, 8, 8, 6]]);
  tensors.forEach((x) => x.dispose());
  assert.throws(() => outputArrays([good[0], dense([1, 4, 4, 7]), good[2]], head, [1, 64, 64, 3]), /output 1 has shape \[1,4,4,7\], expected \[1,4,4,6\]/);
  assert.throws(() => outputArrays(good.slice(0, 2), head, [1, 64, 64, 3]), /2 outputs, the spec has 3 scales/);
});
