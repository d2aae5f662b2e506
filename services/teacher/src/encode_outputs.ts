// Head outputs -> wire tensors, as the request's OutputEncoding asks: dense fp32, dense fp16,
// or sparse fp32 that keeps whole anchor slots whose objectness passes the threshold.
import { encodeSparse, encodeTensor, type WireTensor } from '@kd/engine';
import { Dtype, OutputEncoding, type Tensor } from '@kd/proto';
import type { HeadOutput } from './runner.ts';

/** Metric label of each encoding. */
export const ENCODING_LABELS = {
  [OutputEncoding.OUTPUT_ENCODING_FP32]: 'fp32',
  [OutputEncoding.OUTPUT_ENCODING_FP16]: 'fp16',
  [OutputEncoding.OUTPUT_ENCODING_SPARSE]: 'sparse',
} as const;

export type DenseOrSparse = keyof typeof ENCODING_LABELS;

/**
 * Flat row-major indices of the kept elements of a head output [N, H, W, A*K] (K = 5 + C
 * channels per anchor slot): for every cell and slot m, the K elements m*K .. m*K+K-1 when
 * sigmoid(channel m*K+4) >= threshold. Ascending.
 */
export function sparseIndices(values: Float32Array, channelsPerAnchor: number, threshold: number): Uint32Array {
  const K = channelsPerAnchor;
  if (values.length % K !== 0) throw new RangeError(`${values.length} values are not whole anchor slots of ${K} channels`);
  const kept = new Uint32Array(values.length);
  let n = 0;
  for (let slot = 0; slot < values.length; slot += K) {
    const obj = values[slot + 4];
    if (1 / (1 + Math.exp(-obj)) < threshold) continue;
    for (let k = 0; k < K; k++) kept[n++] = slot + k;
  }
  return kept.slice(0, n);
}

/** The wire tensors of one request's head outputs, coarsest scale first. */
export function encodeOutputs(heads: HeadOutput[], encoding: DenseOrSparse, sparseThreshold: number, channelsPerAnchor: number): Tensor[] {
  return heads.map((h) => {
    if (encoding === OutputEncoding.OUTPUT_ENCODING_SPARSE) {
      return toProto(encodeSparse(h.values, h.shape, sparseIndices(h.values, channelsPerAnchor, sparseThreshold)));
    }
    return toProto(encodeTensor(h.values, h.shape, encoding === OutputEncoding.OUTPUT_ENCODING_FP16 ? 'float16' : 'float32'));
  });
}

/** Bytes a tensor adds to a response: data plus sparse indices. */
export function tensorBytes(t: Tensor): number {
  return t.data.byteLength + (t.sparse?.indices.byteLength ?? 0);
}

function toProto(w: WireTensor): Tensor {
  const tensor: Tensor = {
    shape: w.shape,
    dtype: w.dtype === 'float16' ? Dtype.DTYPE_FLOAT16 : Dtype.DTYPE_FLOAT32,
    data: Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength),
  };
  // The codec checked the host is little-endian, so the Uint32Array's bytes are the wire's LE uint32s.
  if (w.indices) tensor.sparse = { indices: Buffer.from(w.indices.buffer, w.indices.byteOffset, w.indices.byteLength) };
  return tensor;
}
