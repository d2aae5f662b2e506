import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Dtype, type InferRequest, OutputEncoding, type Tensor } from '@kd/proto';
import { InvalidRequestError } from './errors.ts';
import { validateRequest, type RequestLimits } from './validate.ts';

const limits: RequestLimits = { maxBatch: 4, sizeMultiple: 32, inputSize: { height: 64, width: 64 } };

function images(shape: number[], dtype: Dtype = Dtype.DTYPE_FLOAT32, bytes?: number): Tensor {
  const per = dtype === Dtype.DTYPE_FLOAT16 ? 2 : 4;
  return { shape, dtype, data: Buffer.alloc(bytes ?? shape.reduce((a, b) => a * b, 1) * per) };
}

function request(over: Partial<InferRequest>): InferRequest {
  return { requestId: 'r', jobId: 'j', clientId: 'c', encoding: 0, sparseThreshold: 0, expectedSpecHash: '', ...over };
}

function refused(over: Partial<InferRequest>, field: string, reason: RegExp): void {
  assert.throws(() => validateRequest(request(over), limits), (e: Error) => {
    assert.ok(e instanceof InvalidRequestError, `${e.name}: ${e.message}`);
    assert.equal(e.field, field);
    assert.ok(e.message.startsWith(`${field}: `), e.message);
    assert.match(e.message, reason);
    return true;
  });
}

test('good requests: fp32 and fp16 tensors at any multiple of 32, encoded files at the input size', () => {
  const a = validateRequest(request({ images: images([2, 64, 96, 3]) }), limits);
  assert.deepEqual([a.n, a.height, a.width, a.images.kind, a.encoding], [2, 64, 96, 'tensor', OutputEncoding.OUTPUT_ENCODING_FP32]);
  const b = validateRequest(request({ images: images([1, 32, 32, 3], Dtype.DTYPE_FLOAT16), encoding: OutputEncoding.OUTPUT_ENCODING_SPARSE, sparseThreshold: 1 }), limits);
  assert.deepEqual([b.n, b.encoding, b.sparseThreshold], [1, OutputEncoding.OUTPUT_ENCODING_SPARSE, 1]);
  const c = validateRequest(request({ encoded: { images: [Buffer.from([1]), Buffer.from([2])] } }), limits);
  assert.deepEqual([c.n, c.height, c.width, c.images.kind], [2, 64, 64, 'encoded']);
});

test('each bad request is INVALID_ARGUMENT naming its field', () => {
  refused({}, 'InferRequest.input', /neither images nor encoded is set/);
  refused({ images: images([1, 64, 64]) }, 'InferRequest.images.shape', /rank 3; expected \[N, H, W, 3\]/);
  refused({ images: images([1, 60, 64, 3]) }, 'InferRequest.images.shape', /H = 60 is not a positive multiple of 32/);
  refused({ images: images([1, 64, 0, 3]) }, 'InferRequest.images.shape', /W = 0 is not a positive multiple of 32/);
  refused({ images: images([1, 64, 64, 4]) }, 'InferRequest.images.shape', /4 channels; expected 3/);
  refused({ images: images([0, 64, 64, 3]) }, 'InferRequest.images.shape', /empty batch/);
  refused({ images: images([5, 64, 64, 3]) }, 'InferRequest.images.shape', /5 images is over this server's --max-batch 4/);
  refused({ images: images([1, 64, 64, 3], Dtype.DTYPE_UNSPECIFIED, 64 * 64 * 3 * 4) }, 'InferRequest.images.dtype', /DTYPE_UNSPECIFIED; use DTYPE_FLOAT32 or DTYPE_FLOAT16/);
  refused({ images: images([1, 64, 64, 3], 9 as Dtype, 100) }, 'InferRequest.images.dtype', /unknown dtype 9/);
  refused({ images: images([1, 64, 64, 3], Dtype.DTYPE_FLOAT32, 100) }, 'InferRequest.images.data', /100 bytes, but shape \[1,64,64,3\] as DTYPE_FLOAT32 needs 49152/);
  refused({ images: images([1, 64, 64, 3], Dtype.DTYPE_FLOAT16, 64 * 64 * 3 * 4) }, 'InferRequest.images.data', /as DTYPE_FLOAT16 needs 24576/);
  refused({ images: { ...images([1, 32, 32, 3]), sparse: { indices: Buffer.alloc(0) } } }, 'InferRequest.images.sparse', /must be dense/);
  refused({ encoded: { images: [] } }, 'InferRequest.encoded.images', /empty batch/);
  refused({ encoded: { images: Array.from({ length: 5 }, () => Buffer.from([1])) } }, 'InferRequest.encoded.images', /over this server's --max-batch 4/);
  refused({ encoded: { images: [Buffer.from([1]), Buffer.alloc(0)] } }, 'InferRequest.encoded.images[1]', /empty file/);
  refused({ images: images([1, 32, 32, 3]), encoding: 7 as OutputEncoding }, 'InferRequest.encoding', /unknown output encoding 7/);
  refused({ images: images([1, 32, 32, 3]), encoding: OutputEncoding.OUTPUT_ENCODING_SPARSE, sparseThreshold: 1.5 }, 'InferRequest.sparse_threshold', /1\.5 is outside 0\.\.1/);
  refused({ images: images([1, 32, 32, 3]), sparseThreshold: NaN }, 'InferRequest.sparse_threshold', /NaN is outside/);
});
