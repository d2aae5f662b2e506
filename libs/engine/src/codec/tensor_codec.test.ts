import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTensor, encodeSparse, encodeTensor, TensorCodecError } from './tensor_codec.ts';
import { fromHalfBits, toHalfBits } from './float16.ts';

test('float16 bit patterns match IEEE 754 binary16 values computed by hand', () => {
  const cases: Array<[number, number]> = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [Infinity, 0x7c00], [-Infinity, 0xfc00], [1e6, 0x7c00], // overflow -> inf
    [1 + 2 ** -11, 0x3c00], // halfway between 1 and next: ties to even (down)
    [1 + 3 * 2 ** -11, 0x3c02], // halfway, odd below: ties to even (up)
    [2 ** -26, 0x0000], // below half the smallest subnormal
  ];
  for (const [value, bits] of cases) {
    assert.equal(toHalfBits(value), bits, `toHalfBits(${value})`);
  }
  assert.ok(Number.isNaN(fromHalfBits(toHalfBits(NaN))));
  assert.equal(fromHalfBits(0x3555), 0.333251953125);
  assert.equal(fromHalfBits(0x0001), 2 ** -24);
});

test('dense float32 round trip is exact and float16 stays within half-precision error', () => {
  const values = new Float32Array([1.5, -2.25, 3.14159, 1e-3, -7e4, 0]);
  const wire = encodeTensor(values, [2, 3]);
  assert.equal(wire.data.byteLength, 24);
  assert.deepEqual(decodeTensor(wire), values);
  const half = encodeTensor(values.subarray(0, 4), [4], 'float16');
  assert.equal(half.data.byteLength, 8);
  const back = decodeTensor(half);
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(back[i] - values[i]) <= Math.abs(values[i]) * 2 ** -11, `element ${i}`);
});

test('decoding accepts bytes at an unaligned offset, as protobuf decoders hand them out', () => {
  const wire = encodeTensor(new Float32Array([1, 2, 3]), [3]);
  const shifted = new Uint8Array(wire.data.byteLength + 1);
  shifted.set(wire.data, 1);
  assert.deepEqual(decodeTensor({ ...wire, data: shifted.subarray(1) }), new Float32Array([1, 2, 3]));
});

test('sparse tensors carry only the kept values and densify with the fill value', () => {
  const values = new Float32Array([9, 8, 7, 6, 5, 4]);
  const wire = encodeSparse(values, [2, 3], new Uint32Array([1, 4]));
  assert.equal(wire.data.byteLength, 8);
  assert.deepEqual(decodeTensor(wire, -1), new Float32Array([-1, 8, -1, -1, 5, -1]));
  assert.throws(() => encodeSparse(values, [6], new Uint32Array([3, 2])), /must ascend/);
});

test('malformed wire tensors fail with a message naming the mismatch', () => {
  assert.throws(() => decodeTensor({ shape: [2, 2], dtype: 'float32', data: new Uint8Array(12) }),
    (e: unknown) => e instanceof TensorCodecError && /12 bytes, shape \[2,2\] as float32 needs 16/.test(e.message));
  assert.throws(() => decodeTensor({ shape: [2], dtype: 'float32', data: new Uint8Array(4), indices: new Uint32Array([5]) }),
    /sparse index 5 is outside shape \[2\]/);
  assert.throws(() => encodeTensor(new Float32Array(3), [2, 2]), /3 values do not fill shape \[2,2\]/);
});
