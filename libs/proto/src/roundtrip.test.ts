import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ApMetric,
  ChannelOrder,
  CheckpointSaved,
  Dtype,
  EVENTS,
  EvaluationDone,
  HeadLayout,
  InferRequest,
  OutputEncoding,
  specHash,
  TeacherSpec,
  Tensor,
  TrainingProgress,
} from './index.ts';

/** Little-endian bytes of float32 values. */
function f32Bytes(values: number[]): Buffer {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf;
}

/** Float32 values of little-endian bytes; reads through a DataView, so any byteOffset works. */
function f32Values(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

const yoloV3Spec = (): TeacherSpec => ({
  modelName: 'yolov3_r34_voc',
  modelHash: 'sha256:' + 'ab'.repeat(32),
  numClasses: 20,
  classNames: ['aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
    'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor'],
  inputSize: { height: 608, width: 608 },
  preprocessing: {
    channelOrder: ChannelOrder.CHANNEL_ORDER_RGB,
    scale: 255,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  },
  anchors: [[10, 13], [16, 30], [33, 23], [30, 61], [62, 45], [59, 119], [116, 90], [156, 198], [373, 326]]
    .map(([w, h]) => ({ w, h })),
  anchorMasks: [[6, 7, 8], [3, 4, 5], [0, 1, 2]].map((anchorIndices) => ({ anchorIndices })),
  strides: [32, 16, 8],
  headLayout: HeadLayout.HEAD_LAYOUT_YOLO_XYWH_OBJ_CLS,
});

test('dense float32 Tensor survives encode/decode bit for bit', () => {
  const values = [1.5, -2.25, 0, -0, 3.4028234663852886e38, Math.fround(1e-45), Infinity, Math.fround(Math.PI)];
  const tensor: Tensor = { shape: [2, 2, 2], dtype: Dtype.DTYPE_FLOAT32, data: f32Bytes(values) };
  const wire = Tensor.encode(tensor).finish();
  const back = Tensor.decode(wire);
  assert.deepEqual(back.shape, [2, 2, 2]);
  assert.equal(back.dtype, Dtype.DTYPE_FLOAT32);
  assert.equal(back.sparse, undefined);
  assert.equal(back.data.byteLength, 32);
  assert.deepEqual(f32Values(back.data), values);
  assert.ok(Object.is(f32Values(back.data)[3], -0), '-0 keeps its sign');
  // NaN payloads survive too: the bytes are opaque to protobuf
  const nan = Tensor.decode(Tensor.encode({ shape: [1], dtype: Dtype.DTYPE_FLOAT32, data: f32Bytes([NaN]) }).finish());
  assert.ok(Number.isNaN(f32Values(nan.data)[0]));
});

test('sparse Tensor keeps its indices and values', () => {
  const indices = Buffer.alloc(3 * 4);
  [0, 7, 4_000_000_000].forEach((v, i) => indices.writeUInt32LE(v, i * 4));
  const tensor: Tensor = {
    shape: [1, 76, 76, 75],
    dtype: Dtype.DTYPE_FLOAT32,
    data: f32Bytes([0.25, -8, 42]),
    sparse: { indices },
  };
  const back = Tensor.decode(Tensor.encode(tensor).finish());
  assert.deepEqual(back.shape, [1, 76, 76, 75]);
  assert.deepEqual(f32Values(back.data), [0.25, -8, 42]);
  assert.ok(back.sparse);
  const idx = back.sparse.indices;
  assert.deepEqual([0, 1, 2].map((i) => idx.readUInt32LE(i * 4)), [0, 7, 4_000_000_000]);
});

test('fp16 Tensor bytes are carried as is', () => {
  const data = Buffer.from([0x00, 0x3c, 0x00, 0xc0]); // 1.0, -2.0 as binary16 LE
  const back = Tensor.decode(Tensor.encode({ shape: [2], dtype: Dtype.DTYPE_FLOAT16, data }).finish());
  assert.equal(back.dtype, Dtype.DTYPE_FLOAT16);
  assert.deepEqual([...back.data], [0x00, 0x3c, 0x00, 0xc0]);
});

test('TeacherSpec survives encode/decode', () => {
  const spec = yoloV3Spec();
  const back = TeacherSpec.decode(TeacherSpec.encode(spec).finish());
  // float fields go through float32 on the wire
  const expected = {
    ...spec,
    preprocessing: {
      ...spec.preprocessing!,
      mean: spec.preprocessing!.mean.map(Math.fround),
      std: spec.preprocessing!.std.map(Math.fround),
    },
  };
  assert.deepEqual(back, expected);
  assert.deepEqual(back.anchorMasks.map((m) => m.anchorIndices), [[6, 7, 8], [3, 4, 5], [0, 1, 2]]);
  assert.deepEqual(back.anchors[8], { w: 373, h: 326 });
  assert.equal(back.classNames.length, back.numClasses);
  // JSON form (for logs and the CLI) round-trips too
  assert.deepEqual(TeacherSpec.fromJSON(TeacherSpec.toJSON(back)), back);
});

test('specHash is stable, prefixed, and changes with the spec', () => {
  const a = specHash(yoloV3Spec());
  assert.match(a, /^sha256:[0-9a-f]{64}$/);
  assert.equal(specHash(TeacherSpec.decode(TeacherSpec.encode(yoloV3Spec()).finish())), a);
  assert.notEqual(specHash({ ...yoloV3Spec(), strides: [32, 16] }), a);
});

test('InferRequest oneof input and encoding survive', () => {
  const req: InferRequest = {
    requestId: 'r1',
    jobId: 'job-1',
    clientId: 'trainer-0',
    encoded: { images: [Buffer.from([0xff, 0xd8, 0xff]), Buffer.from([0x89, 0x50])] },
    encoding: OutputEncoding.OUTPUT_ENCODING_SPARSE,
    sparseThreshold: 0.25,
    expectedSpecHash: '',
  };
  const back = InferRequest.decode(InferRequest.encode(req).finish());
  assert.equal(back.images, undefined);
  assert.deepEqual(back.encoded?.images.map((b) => [...b]), [[0xff, 0xd8, 0xff], [0x89, 0x50]]);
  assert.equal(back.encoding, OutputEncoding.OUTPUT_ENCODING_SPARSE);
  assert.equal(back.sparseThreshold, 0.25);
});

test('event payloads round-trip through the EVENTS registry', () => {
  const progress = TrainingProgress.fromPartial({
    jobId: 'voc-l2',
    step: 2 ** 40,
    totalSteps: 70_000,
    lr: 1e-3,
    loss: { total: 12.5, det: 10, distill: 2.5 },
    imagesPerSecond: 31.5,
    etaSeconds: 3600,
  });
  const back = EVENTS.training_progress.decode(EVENTS.training_progress.encode(progress).finish());
  assert.deepEqual(back, progress);

  const saved = CheckpointSaved.fromPartial({ jobId: 'voc-l2', step: 2000, path: 'runs/voc-l2/step-2000', contentHash: 'sha256:00', sizeBytes: 3e9 });
  assert.deepEqual(EVENTS.checkpoint_saved.decode(CheckpointSaved.encode(saved).finish()), saved);

  const done = EvaluationDone.fromPartial({ jobId: 'voc-l2', step: 2000, meanAp: 0.553, metric: ApMetric.AP_METRIC_11POINT, perClassAp: { cat: 0.75, dog: 0.5 } });
  assert.deepEqual(EVENTS.evaluation_done.decode(EvaluationDone.encode(done).finish()), done);
});
