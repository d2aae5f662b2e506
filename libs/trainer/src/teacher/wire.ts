// Teacher requests and responses <-> tensors: images out as fp16/fp32 bytes, head outputs back
// as dense float32 (a sparse answer's missing anchors read as "objectness ~0").
import * as tf from '@tensorflow/tfjs-core';
import { decodeTensor, encodeTensor, type WireDtype } from '@kd/engine';
import { Dtype, OutputEncoding, type Tensor } from '@kd/proto';
import type { HeadSpec } from '@kd/detection';

/** A teacher answer that does not fit the spec or the request. */
export class TeacherResponseError extends Error {
  override name = 'TeacherResponseError';
}

export const OUTPUT_ENCODINGS = {
  fp32: OutputEncoding.OUTPUT_ENCODING_FP32,
  fp16: OutputEncoding.OUTPUT_ENCODING_FP16,
  sparse: OutputEncoding.OUTPUT_ENCODING_SPARSE,
} as const;

// Raw objectness a sparse answer's missing anchors get: sigmoid(-30) ~ 1e-13, "below the threshold, weight 0".
const MISSING_OBJECTNESS_LOGIT = -30;

/** A proto Tensor of a dense float32 batch, sent as `dtype`. */
export function imagesTensor(images: Float32Array, shape: number[], dtype: WireDtype): Tensor {
  const wire = encodeTensor(images, shape, dtype);
  return { shape: wire.shape, dtype: dtype === 'float16' ? Dtype.DTYPE_FLOAT16 : Dtype.DTYPE_FLOAT32, data: Buffer.from(wire.data.buffer, wire.data.byteOffset, wire.data.byteLength) };
}

/** Dense float32 values of a proto Tensor; a sparse one's missing anchors get objectness ~0 and zero elsewhere. */
export function denseValues(t: Tensor, channelsPerAnchor: number): Float32Array {
  const dtype: WireDtype | undefined = t.dtype === Dtype.DTYPE_FLOAT16 ? 'float16' : t.dtype === Dtype.DTYPE_FLOAT32 ? 'float32' : undefined;
  if (!dtype) throw new TeacherResponseError(`output dtype ${t.dtype} is neither FLOAT32 nor FLOAT16`);
  const data = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  if (!t.sparse) return decodeTensor({ shape: t.shape, dtype, data });
  const raw = t.sparse.indices;
  const indices = new Uint32Array(raw.byteLength / 4);
  new Uint8Array(indices.buffer).set(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength));
  const dense = decodeTensor({ shape: t.shape, dtype, data, indices }, 0);
  // Every element not sent belongs to a left-out anchor; mark its objectness channel as ~0.
  const kept = new Uint8Array(dense.length);
  for (const i of indices) kept[i] = 1;
  for (let i = 4; i < dense.length; i += channelsPerAnchor) if (!kept[i]) dense[i] = MISSING_OBJECTNESS_LOGIT;
  return dense;
}

/** One scale's dense head output: [N, H/s, W/s, A*(5+C)] float32 values. */
export interface OutputArray {
  shape: [number, number, number, number];
  values: Float32Array;
}

/** The response's outputs as dense arrays, after checking they are [N, H/s, W/s, A*(5+C)] per scale of `head`. */
export function outputArrays(outputs: Tensor[], head: HeadSpec, batch: readonly number[]): OutputArray[] {
  const [n, h, w] = batch;
  if (outputs.length !== head.strides.length) throw new TeacherResponseError(`${outputs.length} outputs, the spec has ${head.strides.length} scales`);
  const channelsPerAnchor = 5 + head.numClasses;
  const expected = head.strides.map((s, i) => [n, h / s, w / s, head.anchorMasks[i].length * channelsPerAnchor]);
  outputs.forEach((t, i) => {
    if (t.shape.join(',') !== expected[i].join(',')) throw new TeacherResponseError(`output ${i} has shape [${t.shape}], expected [${expected[i]}]`);
  });
  return outputs.map((t, i) => ({ shape: expected[i] as OutputArray['shape'], values: denseValues(t, channelsPerAnchor) }));
}

/** Output arrays as tensors (the caller owns them). */
export function outputTensors(outputs: OutputArray[]): tf.Tensor4D[] {
  return outputs.map((o) => tf.tensor4d(o.values, o.shape));
}
