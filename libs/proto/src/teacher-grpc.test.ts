// The generated TeacherService definition and client against a real grpc-js server on
// 127.0.0.1, port 0.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  credentials,
  Server,
  ServerCredentials,
  status,
  type StatusObject,
  type ServiceError,
} from '@grpc/grpc-js';
import {
  ChannelOrder,
  Dtype,
  type GetSpecResponse,
  GRPC_MESSAGE_OPTIONS,
  HeadLayout,
  type InferRequest,
  type InferResponse,
  specHash,
  TeacherServiceClient,
  TeacherServiceService,
  type TeacherServiceServer,
  type TeacherSpec,
  type Tensor,
} from './index.ts';

const spec: TeacherSpec = {
  modelName: 'tiny',
  modelHash: 'sha256:' + '0'.repeat(64),
  numClasses: 2,
  classNames: ['cat', 'dog'],
  inputSize: { height: 64, width: 96 },
  preprocessing: { channelOrder: ChannelOrder.CHANNEL_ORDER_BGR, scale: 1, mean: [104, 117, 123], std: [1, 1, 1] },
  anchors: [[10, 13], [16, 30], [33, 23], [30, 61], [62, 45], [59, 119]].map(([w, h]) => ({ w, h })),
  anchorMasks: [[3, 4, 5], [0, 1, 2]].map((anchorIndices) => ({ anchorIndices })),
  strides: [32, 16],
  headLayout: HeadLayout.HEAD_LAYOUT_YOLO_XYWH_OBJ_CLS,
};
const SPEC_HASH = specHash(spec);
const REPLICA = 'replica-test-0';

/** Zero head outputs of the right shapes for a batch of n images. */
function fakeHeads(n: number): Tensor[] {
  return spec.strides.map((stride, s) => {
    const shape = [
      n,
      spec.inputSize!.height / stride,
      spec.inputSize!.width / stride,
      spec.anchorMasks[s].anchorIndices.length * (5 + spec.numClasses),
    ];
    const count = shape.reduce((a, b) => a * b, 1);
    return { shape, dtype: Dtype.DTYPE_FLOAT32, data: Buffer.alloc(count * 4) };
  });
}

function answer(req: InferRequest): InferResponse {
  const n = req.images ? req.images.shape[0] : (req.encoded?.images.length ?? 0);
  return {
    requestId: req.requestId,
    outputs: fakeHeads(n),
    specHash: SPEC_HASH,
    replicaId: REPLICA,
    timings: { queueSeconds: 0, preprocessSeconds: 0, inferenceSeconds: 0.001, encodeSeconds: 0, totalSeconds: 0.001, batchImages: n },
  };
}

function badRequest(req: InferRequest): Partial<StatusObject> | undefined {
  if (req.jobId === 'fail') return { code: status.INVALID_ARGUMENT, details: `InferRequest.images: bad batch for request ${req.requestId}` };
  if (!req.images && !req.encoded) return { code: status.INVALID_ARGUMENT, details: 'InferRequest.input: neither images nor encoded is set' };
  return undefined;
}

const impl: TeacherServiceServer = {
  getSpec(_call, callback) {
    callback(null, { spec, specHash: SPEC_HASH, replicaId: REPLICA });
  },
  infer(call, callback) {
    const err = badRequest(call.request);
    if (err) {
      callback(err);
      return;
    }
    callback(null, answer(call.request));
  },
  inferStream(call) {
    // Answer each request after a delay that shrinks with its position, so responses come
    // back out of order and the client has to match them by request_id.
    const timers = new Set<NodeJS.Timeout>();
    let received = 0;
    let inputDone = false;
    let stopped = false;
    const stop = () => {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    };
    const maybeEnd = () => {
      if (inputDone && timers.size === 0 && !stopped) call.end();
    };
    call.on('cancelled', stop);
    call.on('data', (req: InferRequest) => {
      if (stopped) return;
      const err = badRequest(req);
      if (err) {
        stop();
        call.emit('error', err);
        return;
      }
      const delay = Math.max(0, 40 - 10 * received++);
      const t = setTimeout(() => {
        timers.delete(t);
        call.write(answer(req));
        maybeEnd();
      }, delay);
      timers.add(t);
    });
    call.on('end', () => {
      inputDone = true;
      maybeEnd();
    });
  },
};

let server: Server;
let client: TeacherServiceClient;

before(async () => {
  server = new Server(GRPC_MESSAGE_OPTIONS);
  server.addService(TeacherServiceService, impl);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  client = new TeacherServiceClient(`127.0.0.1:${port}`, credentials.createInsecure(), GRPC_MESSAGE_OPTIONS);
});

after(async () => {
  client?.close();
  if (!server) return;
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, 2000);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
});

function infer(req: Partial<InferRequest>): Promise<InferResponse> {
  const full: InferRequest = { requestId: '', jobId: 'job', clientId: 'test', encoding: 0, sparseThreshold: 0, expectedSpecHash: '', ...req };
  return new Promise((resolve, reject) => client.infer(full, (err, res) => (err ? reject(err) : resolve(res))));
}

function images(n: number, h = 64, w = 96): Tensor {
  return { shape: [n, h, w, 3], dtype: Dtype.DTYPE_FLOAT32, data: Buffer.alloc(n * h * w * 3 * 4) };
}

test('GetSpec returns the spec and its hash', async () => {
  const res = await new Promise<GetSpecResponse>((resolve, reject) =>
    client.getSpec({}, (err, r) => (err ? reject(err) : resolve(r))),
  );
  assert.ok(res.spec);
  assert.equal(res.specHash, SPEC_HASH);
  assert.equal(specHash(res.spec), SPEC_HASH);
  assert.equal(res.replicaId, REPLICA);
  assert.deepEqual(res.spec, spec);
});

test('Infer returns one head tensor per scale, coarsest first', async () => {
  const res = await infer({ requestId: 'a', images: images(2) });
  assert.equal(res.requestId, 'a');
  assert.equal(res.specHash, SPEC_HASH);
  assert.deepEqual(res.outputs.map((t) => t.shape), [[2, 2, 3, 21], [2, 4, 6, 21]]);
  assert.equal(res.outputs[1].data.byteLength, 2 * 4 * 6 * 21 * 4);
  assert.equal(res.timings?.batchImages, 2);

  const enc = await infer({ requestId: 'b', encoded: { images: [Buffer.from([0xff, 0xd8]), Buffer.from([0xff, 0xd8]), Buffer.from([0xff])] } });
  assert.equal(enc.outputs[0].shape[0], 3);
});

test('Infer carries messages over grpc-js 4 MiB default with GRPC_MESSAGE_OPTIONS', async () => {
  // 60 x 128 x 192 x 3 fp32 is 17.7 MB; without the options the server would answer RESOURCE_EXHAUSTED
  const res = await infer({ requestId: 'big', images: images(60, 128, 192) });
  assert.equal(res.outputs[0].shape[0], 60);
});

test('an Infer error reaches the client as a gRPC status, and the server keeps serving', async () => {
  await assert.rejects(infer({ requestId: 'x', jobId: 'fail', images: images(1) }), (err: ServiceError) => {
    assert.equal(err.code, status.INVALID_ARGUMENT);
    assert.equal(err.details, 'InferRequest.images: bad batch for request x');
    return true;
  });
  await assert.rejects(infer({ requestId: 'y' }), (err: ServiceError) => err.code === status.INVALID_ARGUMENT && /neither images nor encoded/.test(err.details));
  const ok = await infer({ requestId: 'after', images: images(1) });
  assert.equal(ok.requestId, 'after');
});

test('InferStream answers every request, matched by request_id', async () => {
  const call = client.inferStream();
  const ids = ['s0', 's1', 's2', 's3'];
  const got = new Map<string, InferResponse>();
  const order: string[] = [];
  const done = (async () => {
    for await (const res of call as AsyncIterable<InferResponse>) {
      got.set(res.requestId, res);
      order.push(res.requestId);
    }
  })();
  ids.forEach((id, i) => call.write({ requestId: id, jobId: 'job', clientId: 'test', images: images(i + 1), encoding: 0, sparseThreshold: 0, expectedSpecHash: '' }));
  call.end();
  await done;
  assert.deepEqual([...got.keys()].sort(), ids);
  ids.forEach((id, i) => assert.equal(got.get(id)!.outputs[0].shape[0], i + 1, id));
  assert.notDeepEqual(order, ids, 'responses arrive out of order, so matching by id is what makes this pass');
});

test('an InferStream error ends the stream with a status', async () => {
  const call = client.inferStream();
  const err = await new Promise<ServiceError>((resolve, reject) => {
    call.on('data', () => reject(new Error('unexpected response')));
    call.on('error', resolve);
    call.write({ requestId: 'bad', jobId: 'fail', clientId: 'test', images: images(1), encoding: 0, sparseThreshold: 0, expectedSpecHash: '' });
  });
  assert.equal(err.code, status.INVALID_ARGUMENT);
  assert.match(err.details, /bad batch for request bad/);
  // the server is still up for unary calls
  assert.equal((await infer({ requestId: 'still', images: images(1) })).requestId, 'still');
});
