import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeTensor } from '@kd/engine';
import { Dtype, OutputEncoding, type Tensor } from '@kd/proto';
import { encodeOutputs, sparseIndices, tensorBytes } from './encode_outputs.ts';
import type { HeadOutput } from './runner.ts';

const wire = (t: Tensor) => ({
  shape: t.shape, dtype: t.dtype === Dtype.DTYPE_FLOAT16 ? ('float16' as const) : ('float32' as const), data: t.data,
  indices: t.sparse ? new Uint32Array(Uint8Array.from(t.sparse.indices).buffer) : undefined,
});

// One image, 1x2 cells, A = 2 anchor slots of K = 5 + 1 channels: shape [1, 1, 2, 12].
// Objectness logits (channel 4 of each slot): cell 0: 2 (p .881), -3 (p .047); cell 1: 0 (p .5), 0.5 (p .622).
const K = 6;
const values = Float32Array.from([
  0.1, 0.2, 0.3, 0.4, 2, 0.6, /**/ 1.1, 1.2, 1.3, 1.4, -3, 1.6,
  2.1, 2.2, 2.3, 2.4, 0, 2.6, /**/ 3.1, 3.2, 3.3, 3.4, 0.5, 3.6,
]);
const head: HeadOutput = { values, shape: [1, 1, 2, 12] };

test('sparse keeps whole anchor slots with sigmoid(obj) >= threshold: indices and values by hand', () => {
  const [t] = encodeOutputs([head], OutputEncoding.OUTPUT_ENCODING_SPARSE, 0.5, K);
  assert.deepEqual(t.shape, [1, 1, 2, 12]);
  assert.equal(t.dtype, Dtype.DTYPE_FLOAT32);
  // kept: cell 0 slot 0 (elements 0..5), cell 1 slot 0 (12..17, p = .5 exactly), cell 1 slot 1 (18..23)
  const expected = [0, 1, 2, 3, 4, 5, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23];
  const idx = t.sparse!.indices;
  assert.equal(idx.byteLength, expected.length * 4);
  assert.deepEqual(expected.map((_, i) => idx.readUInt32LE(i * 4)), expected, 'flat row-major element indices, uint32 little-endian');
  assert.deepEqual(expected.map((_, i) => t.data.readFloatLE(i * 4)), expected.map((i) => values[i]));
  assert.equal(tensorBytes(t), 2 * expected.length * 4);
  // a generic decoder densifies it back, unsent elements at its fill value
  const dense = decodeTensor(wire(t), NaN);
  assert.deepEqual([...dense.slice(6, 12)].map(Number.isNaN), [true, true, true, true, true, true]);
  assert.deepEqual([...dense.slice(12)], [...values.slice(12)]);
});

test('sparse threshold 0 keeps every slot, a threshold no logit reaches keeps none', () => {
  assert.equal(sparseIndices(values, K, 0).length, values.length);
  assert.deepEqual([...sparseIndices(values, K, 0.9)], []);
  assert.deepEqual([...sparseIndices(values, K, 0.85)], [0, 1, 2, 3, 4, 5]);
  assert.throws(() => sparseIndices(values.subarray(0, 7), K, 0.5), /whole anchor slots/);
});

test('fp32 is exact, fp16 round-trips within half precision, both dense', () => {
  const n = 2 * 3 * 4 * 18;
  const v = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 8 + (i % 5) * 0.01);
  const h: HeadOutput = { values: v, shape: [2, 3, 4, 18] };
  const [f32] = encodeOutputs([h], OutputEncoding.OUTPUT_ENCODING_FP32, 0, 6);
  assert.equal(f32.sparse, undefined);
  assert.equal(f32.data.byteLength, n * 4);
  assert.deepEqual(decodeTensor(wire(f32)), v);
  const [f16] = encodeOutputs([h], OutputEncoding.OUTPUT_ENCODING_FP16, 0, 6);
  assert.equal(f16.dtype, Dtype.DTYPE_FLOAT16);
  assert.equal(f16.data.byteLength, n * 2);
  const back = decodeTensor(wire(f16));
  for (let i = 0; i < n; i++) assert.ok(Math.abs(back[i] - v[i]) <= 1e-3 * Math.max(1, Math.abs(v[i])) * 4, `${i}: ${back[i]} vs ${v[i]}`);
});

test('every scale is encoded, coarsest first, each keeping its own shape', () => {
  const scales: HeadOutput[] = [[1, 1, 1], [1, 2, 2], [1, 4, 4]].map(([n, hh, ww]) => ({
    values: new Float32Array(n * hh * ww * 12).fill(-10), shape: [n, hh, ww, 12],
  }));
  const out = encodeOutputs(scales, OutputEncoding.OUTPUT_ENCODING_SPARSE, 0.5, K);
  assert.deepEqual(out.map((t) => t.shape), [[1, 1, 1, 12], [1, 2, 2, 12], [1, 4, 4, 12]]);
  assert.ok(out.every((t) => t.data.byteLength === 0 && t.sparse?.indices.byteLength === 0), 'nothing passes: empty but present');
});
