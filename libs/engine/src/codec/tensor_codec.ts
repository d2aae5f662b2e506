import { endianness } from 'node:os';
import { float16ToFloat32, float32ToFloat16 } from './float16.ts';

/** Element types a tensor may travel as. */
export const WireDtype = { float32: 'float32', float16: 'float16' } as const;
export type WireDtype = (typeof WireDtype)[keyof typeof WireDtype];

/**
 * A tensor as it travels: row-major little-endian bytes plus shape and dtype, the same
 * fields as proto kd.v1.Tensor. Sparse tensors carry only the values at `indices`
 * (flat row-major, ascending); what the other elements mean is the producer's contract.
 */
export interface WireTensor {
  shape: number[];
  dtype: WireDtype;
  data: Uint8Array;
  indices?: Uint32Array;
}

export class TensorCodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TensorCodecError';
  }
}

// Typed arrays use the host's byte order; the wire is little-endian.
if (endianness() !== 'LE') throw new TensorCodecError('kd tensor codecs need a little-endian host');

const bytesPer: Record<WireDtype, number> = { float32: 4, float16: 2 };

/** Encodes float32 values of `shape` as dense wire bytes of `dtype`. */
export function encodeTensor(values: Float32Array, shape: number[], dtype: WireDtype = 'float32'): WireTensor {
  const size = shape.reduce((a, b) => a * b, 1);
  if (values.length !== size) throw new TensorCodecError(`${values.length} values do not fill shape [${shape}]`);
  return { shape: [...shape], dtype, data: toBytes(values, dtype) };
}

/** Encodes only the values at `indices` (ascending flat indices into `shape`). */
export function encodeSparse(values: Float32Array, shape: number[], indices: Uint32Array, dtype: WireDtype = 'float32'): WireTensor {
  const kept = new Float32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    if (i > 0 && indices[i] <= indices[i - 1]) throw new TensorCodecError(`sparse indices must ascend (index ${i})`);
    kept[i] = values[indices[i]];
  }
  return { shape: [...shape], dtype, data: toBytes(kept, dtype), indices: Uint32Array.from(indices) };
}

/** Decodes to float32; sparse tensors are densified with `fill` at the elements not sent. */
export function decodeTensor(wire: WireTensor, fill = 0): Float32Array {
  if (!(wire.dtype in bytesPer)) throw new TensorCodecError(`unknown dtype ${String(wire.dtype)}`);
  const size = wire.shape.reduce((a, b) => a * b, 1);
  const count = wire.indices?.length ?? size;
  const expected = count * bytesPer[wire.dtype];
  if (wire.data.byteLength !== expected) {
    throw new TensorCodecError(
      `data has ${wire.data.byteLength} bytes, shape [${wire.shape}] ${wire.indices ? `with ${count} sparse indices ` : ''}as ${wire.dtype} needs ${expected}`);
  }
  const values = fromBytes(wire.data, wire.dtype, count);
  if (wire.indices == null) return values;
  const dense = new Float32Array(size).fill(fill);
  for (let i = 0; i < count; i++) {
    const at = wire.indices[i];
    if (at >= size) throw new TensorCodecError(`sparse index ${at} is outside shape [${wire.shape}]`);
    dense[at] = values[i];
  }
  return dense;
}

function toBytes(values: Float32Array, dtype: WireDtype): Uint8Array {
  const typed = dtype === 'float16' ? float32ToFloat16(values) : Float32Array.from(values);
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

function fromBytes(data: Uint8Array, dtype: WireDtype, count: number): Float32Array {
  // Copy into an aligned buffer: decoded protobuf bytes may start at any offset.
  const aligned = new Uint8Array(data.byteLength);
  aligned.set(data);
  return dtype === 'float16' ? float16ToFloat32(new Uint16Array(aligned.buffer, 0, count)) : new Float32Array(aligned.buffer, 0, count);
}
