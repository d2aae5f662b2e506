// The teacher service as a real process on port 0, talked to by real grpc-js clients: specs,
// outputs equal to the same model run in this process, streams, bad requests next to a good
// client that must lose nothing, metrics, health, reflection, and shutdown on SIGTERM.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import {
  credentials, loadPackageDefinition, makeClientConstructor, status, type Client, type ClientDuplexStream, type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { service as healthService } from 'grpc-health-check';
import { normalizeInto, resizeBilinear } from '@kd/data';
import { float16ToFloat32, float32ToFloat16 } from '@kd/engine';
import {
  Dtype, type GetSpecResponse, type InferRequest, type InferResponse, OutputEncoding, specHash, type TeacherServiceClient, TeacherSpec,
} from '@kd/proto';
import { TEACHER_METRIC_NAMES } from '@kd/teacher-service/metrics';
import {
  client, decode, imagesTensor, infer, makeTinyTeacher, maxRelError, parseMetrics, randomImages, referenceHeads, request, startTeacherProcess,
  type TeacherProcess,
} from './helpers.ts';

let tiny: Awaited<ReturnType<typeof makeTinyTeacher>>;
let server: TeacherProcess;
let c: TeacherServiceClient;
const MAX_BATCH = 8;

before(async () => {
  tiny = await makeTinyTeacher();
  server = await startTeacherProcess([
    '--weights', tiny.dir, '--max-batch', String(MAX_BATCH), '--max-queue', '32', '--max-queue-delay-ms', '20',
    '--max-message-mb', '1', '--replica-id', 'teacher-test-0',
  ]);
  c = client(server.address);
});

after(() => {
  c?.close();
  server?.kill();
  tiny?.cleanup();
});

const getSpec = (cl: TeacherServiceClient) =>
  new Promise<GetSpecResponse>((resolve, reject) => cl.getSpec({}, (err, res) => (err ? reject(err) : resolve(res))));

/** Asserts a response's heads equal the in-process reference for `values` [n, h, w, 3]. */
function assertHeads(res: InferResponse, values: Float32Array, n: number, h: number, w: number, tol: number, what: string): void {
  const ref = referenceHeads(tiny.teacher, values, n, h, w);
  assert.equal(res.outputs.length, 3, what);
  res.outputs.forEach((t, s) => {
    const stride = [32, 16, 8][s];
    assert.deepEqual(t.shape, [n, h / stride, w / stride, 3 * (5 + 3)], `${what} scale ${s} shape`);
    const err = maxRelError(decode(t), ref[s]);
    assert.ok(err <= tol, `${what} scale ${s}: max relative error ${err} > ${tol}`);
  });
}

function expectStatus(code: status, detail: RegExp) {
  return (e: ServiceError) => {
    assert.equal(e.code, code, `${status[e.code]}: ${e.details}`);
    assert.match(e.details, detail);
    return true;
  };
}

test('GetSpec describes the served checkpoint; spec_hash is specHash(spec)', async () => {
  const res = await getSpec(c);
  assert.ok(res.spec);
  assert.equal(res.specHash, specHash(res.spec));
  assert.equal(res.specHash, tiny.teacher.specHash);
  // the wire carries anchors and normalisation as float32: compare with the spec after one round trip
  assert.deepEqual(res.spec, TeacherSpec.decode(TeacherSpec.encode(tiny.teacher.spec).finish()));
  assert.equal(res.replicaId, 'teacher-test-0');
  assert.deepEqual(res.spec.classNames, ['circle', 'square', 'triangle']);
});

test('Infer with fp32 and fp16 inputs returns the heads the model gives in-process', async () => {
  const x = randomImages(2, 64, 96, 1);
  const res = await infer(c, { requestId: 'fp32-in', images: imagesTensor(x, [2, 64, 96, 3]) });
  assert.equal(res.requestId, 'fp32-in');
  assert.equal(res.specHash, tiny.teacher.specHash);
  assert.equal(res.replicaId, 'teacher-test-0');
  assertHeads(res, x, 2, 64, 96, 1e-4, 'fp32 input');
  const t = res.timings!;
  assert.ok(t.batchImages >= 2 && t.inferenceSeconds > 0 && t.queueSeconds >= 0 && t.encodeSeconds >= 0, JSON.stringify(t));
  assert.equal(t.preprocessSeconds, 0, 'a preprocessed tensor has no preprocessing');
  assert.ok(t.totalSeconds >= t.inferenceSeconds + t.queueSeconds, JSON.stringify(t));

  const y = randomImages(1, 64, 64, 2);
  const half = float32ToFloat16(y);
  const res16 = await infer(c, { requestId: 'fp16-in', images: { shape: [1, 64, 64, 3], dtype: Dtype.DTYPE_FLOAT16, data: Buffer.from(half.buffer) } });
  assertHeads(res16, float16ToFloat32(half), 1, 64, 64, 1e-4, 'fp16 input');
});

test('fp16 and sparse outputs encode the same heads', async () => {
  const x = randomImages(2, 64, 64, 3);
  const ref = referenceHeads(tiny.teacher, x, 2, 64, 64);
  const f16 = await infer(c, { images: imagesTensor(x, [2, 64, 64, 3]), encoding: OutputEncoding.OUTPUT_ENCODING_FP16 });
  f16.outputs.forEach((t, s) => {
    assert.equal(t.dtype, Dtype.DTYPE_FLOAT16);
    assert.equal(t.data.byteLength, ref[s].length * 2);
    assert.ok(maxRelError(decode(t), ref[s]) < 2e-3, `fp16 scale ${s}`);
  });
  const threshold = 0.5;
  const sparse = await infer(c, { images: imagesTensor(x, [2, 64, 64, 3]), encoding: OutputEncoding.OUTPUT_ENCODING_SPARSE, sparseThreshold: threshold });
  let kept = 0;
  sparse.outputs.forEach((t, s) => {
    const dense = decode(t, NaN);
    for (let slot = 0; slot < dense.length; slot += 8) {
      const keep = 1 / (1 + Math.exp(-ref[s][slot + 4])) >= threshold;
      for (let k = 0; k < 8; k++) {
        if (keep) assert.ok(Math.abs(dense[slot + k] - ref[s][slot + k]) <= 1e-4 * Math.max(1, Math.abs(ref[s][slot + k])), `scale ${s} element ${slot + k}`);
        else assert.ok(Number.isNaN(dense[slot + k]), `scale ${s} element ${slot + k} was sent though its slot is below the threshold`);
      }
      kept += keep ? 1 : 0;
    }
  });
  assert.ok(kept > 0, 'some slots pass 0.5 (a fresh head starts near the objectness prior)');
});

test('encoded PNG files are decoded and preprocessed like the data pipeline', async () => {
  const raw = [
    { w: 80, h: 60, pixels: Uint8Array.from({ length: 80 * 60 * 3 }, (_, i) => (i * 13) % 256) },
    { w: 64, h: 64, pixels: Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 5 + 40) % 256) },
  ];
  const files = await Promise.all(raw.map((r) => sharp(r.pixels, { raw: { width: r.w, height: r.h, channels: 3 } }).png().toBuffer()));
  const res = await infer(c, { requestId: 'png', encoded: { images: files } });
  const x = new Float32Array(2 * 64 * 64 * 3);
  raw.forEach((r, i) => normalizeInto(x, i * 64 * 64 * 3, resizeBilinear(r.pixels, r.w, r.h, 64, 64)));
  assertHeads(res, x, 2, 64, 64, 1e-4, 'png');
  assert.ok(res.timings!.preprocessSeconds > 0);
});

test('InferStream answers many requests in flight, each with its own outputs', async () => {
  const call = c.inferStream();
  const inputs = Array.from({ length: 6 }, (_, i) => ({ id: `s${i}`, n: 1 + (i % 3), x: randomImages(1 + (i % 3), 64, 64, 10 + i) }));
  const got = new Map<string, InferResponse>();
  const done = (async () => {
    for await (const res of call as AsyncIterable<InferResponse>) got.set(res.requestId, res);
  })();
  for (const { id, n, x } of inputs) call.write(request({ requestId: id, images: imagesTensor(x, [n, 64, 64, 3]) }));
  call.end();
  await done;
  assert.deepEqual([...got.keys()].sort(), inputs.map((i) => i.id));
  for (const { id, n, x } of inputs) assertHeads(got.get(id)!, x, n, 64, 64, 1e-4, id);
  assert.ok([...got.values()].some((r) => r.timings!.batchImages > r.outputs[0].shape[0]), 'requests in flight together were merged into one run');
});

test('expected_spec_hash: a match is served, a mismatch is FAILED_PRECONDITION', async () => {
  const x = imagesTensor(randomImages(1, 32, 32, 4), [1, 32, 32, 3]);
  assert.equal((await infer(c, { images: x, expectedSpecHash: tiny.teacher.specHash })).outputs.length, 3);
  await assert.rejects(infer(c, { images: x, expectedSpecHash: `sha256:${'0'.repeat(64)}` }),
    expectStatus(status.FAILED_PRECONDITION, /InferRequest\.expected_spec_hash: sha256:0+ is not the served spec/));
});

/** A client that keeps a stream of good requests (two in flight) going until stopped. */
function goodStreamer(address: string) {
  const cl = client(address);
  const x = randomImages(2, 64, 64, 99);
  const ref = referenceHeads(tiny.teacher, x, 2, 64, 64);
  const call: ClientDuplexStream<InferRequest, InferResponse> = cl.inferStream();
  let sent = 0;
  let received = 0;
  let stopping = false;
  const problems: string[] = [];
  const send = () => call.write(request({ requestId: `good-${sent++}`, clientId: 'good', images: imagesTensor(x, [2, 64, 64, 3]) }));
  const finished = new Promise<void>((resolve) => {
    call.on('data', (res: InferResponse) => {
      received++;
      res.outputs.forEach((t, s) => {
        if (maxRelError(decode(t), ref[s]) > 1e-4) problems.push(`${res.requestId} scale ${s} differs`);
      });
      if (!stopping) send();
    });
    call.on('error', (e: ServiceError) => {
      problems.push(`stream error ${status[e.code]}: ${e.details}`);
      resolve();
    });
    call.on('end', () => resolve());
  });
  send();
  send();
  return {
    async stop() {
      stopping = true;
      call.end();
      await finished;
      cl.close();
      return { sent, received, problems };
    },
  };
}

test('bad requests get INVALID_ARGUMENT naming the field while a good client loses nothing', async () => {
  const good = goodStreamer(server.address);
  let result: Awaited<ReturnType<typeof good.stop>> | undefined;
  try {
    const ok = randomImages(1, 64, 64, 5);
    const withValue = (v: number) => {
      const y = ok.slice();
      y[100] = v;
      return imagesTensor(y, [1, 64, 64, 3]);
    };
    const cases: Array<[string, Partial<InferRequest>, RegExp]> = [
      ['no input', {}, /^InferRequest\.input: neither images nor encoded is set/],
      ['rank 3', { images: imagesTensor(ok, [64, 64, 3]) }, /^InferRequest\.images\.shape: \[64,64,3\] has rank 3/],
      ['size not a multiple of 32', { images: imagesTensor(randomImages(1, 48, 64, 6), [1, 48, 64, 3]) }, /^InferRequest\.images\.shape: H = 48 is not a positive multiple of 32/],
      ['4 channels', { images: imagesTensor(ok, [1, 64, 64, 4]) }, /^InferRequest\.images\.shape: 4 channels/],
      ['dtype unspecified', { images: { ...imagesTensor(ok, [1, 64, 64, 3]), dtype: Dtype.DTYPE_UNSPECIFIED } }, /^InferRequest\.images\.dtype: DTYPE_UNSPECIFIED/],
      ['unknown dtype', { images: { ...imagesTensor(ok, [1, 64, 64, 3]), dtype: 5 as Dtype } }, /^InferRequest\.images\.dtype: unknown dtype 5/],
      ['short data', { images: imagesTensor(ok.subarray(0, 1000), [1, 64, 64, 3]) }, /^InferRequest\.images\.data: 4000 bytes, but shape \[1,64,64,3\] as DTYPE_FLOAT32 needs 49152/],
      ['NaN', { images: withValue(NaN) }, /^InferRequest\.images\.data: element 100 .* is NaN/],
      ['Inf', { images: withValue(-Infinity) }, /^InferRequest\.images\.data: element 100 .* is -Infinity/],
      ['corrupt image', { encoded: { images: [Buffer.from('\x89PNG\r\n\x1a\n definitely not the rest of a png')] } }, /^InferRequest\.encoded\.images\[0\]: cannot decode image/],
      ['empty batch', { images: imagesTensor(new Float32Array(0), [0, 64, 64, 3]) }, /^InferRequest\.images\.shape: empty batch/],
      ['no files', { encoded: { images: [] } }, /^InferRequest\.encoded\.images: empty batch/],
      ['over max-batch', { images: imagesTensor(randomImages(9, 32, 32, 7), [9, 32, 32, 3]) }, /^InferRequest\.images\.shape: 9 images is over this server's --max-batch 8/],
      ['unknown encoding', { images: imagesTensor(ok, [1, 64, 64, 3]), encoding: 9 as OutputEncoding }, /^InferRequest\.encoding: unknown output encoding 9/],
      ['threshold > 1', { images: imagesTensor(ok, [1, 64, 64, 3]), encoding: OutputEncoding.OUTPUT_ENCODING_SPARSE, sparseThreshold: 1.5 }, /^InferRequest\.sparse_threshold: 1\.5 is outside 0\.\.1/],
      ['threshold < 0', { images: imagesTensor(ok, [1, 64, 64, 3]), encoding: OutputEncoding.OUTPUT_ENCODING_SPARSE, sparseThreshold: -0.1 }, /^InferRequest\.sparse_threshold: -0\.1/],
    ];
    for (const [what, req, detail] of cases) {
      await assert.rejects(infer(c, { requestId: what, ...req }), expectStatus(status.INVALID_ARGUMENT, detail), what);
    }
    // grpc-js itself refuses a message over --max-message-mb (1 MiB here): 3 MB of pixels
    await assert.rejects(infer(c, { images: imagesTensor(randomImages(1, 512, 512, 8), [1, 512, 512, 3]) }),
      expectStatus(status.RESOURCE_EXHAUSTED, /larger than max/i));
    // on a stream, one bad request ends that stream (teacher.proto) and only that one
    const bad = c.inferStream();
    const streamError = new Promise<ServiceError>((resolve) => bad.on('error', resolve));
    bad.on('data', () => {});
    bad.write(request({ requestId: 'bad-0', images: imagesTensor(ok, [1, 64, 64, 3]) }));
    bad.write(request({ requestId: 'bad-1', images: imagesTensor(ok, [1, 64, 60, 3]) }));
    expectStatus(status.INVALID_ARGUMENT, /^InferRequest\.images\.shape: W = 60/)(await streamError);

    assert.equal((await infer(c, { requestId: 'after', images: imagesTensor(ok, [1, 64, 64, 3]) })).requestId, 'after', 'still serving');
  } finally {
    result = await good.stop();
  }
  const { sent, received, problems } = result;
  assert.deepEqual(problems, []);
  assert.equal(received, sent, 'every good request was answered');
  assert.ok(received >= 4, `the good client kept going (${received} answered)`);
  assert.match(server.stderr(), /"level":"warn".*"reason":"InferRequest\.images\.data: element 100[^"]*is NaN/, 'bad requests are logged at warn with the reason');
});

test('/metrics exposes every kd_teacher_ metric with counts; /healthz is 200', async () => {
  const base = `http://127.0.0.1:${server.metricsPort}`;
  const text = await (await fetch(`${base}/metrics`)).text();
  for (const name of Object.values(TEACHER_METRIC_NAMES)) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
  const m = parseMetrics(text);
  const value = (name: string, labels: Record<string, string> = {}) =>
    (m.get(name) ?? []).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
  assert.ok(value(TEACHER_METRIC_NAMES.requests, { method: 'Infer', code: 'OK' }) >= 5);
  assert.ok(value(TEACHER_METRIC_NAMES.requests, { method: 'Infer', code: 'INVALID_ARGUMENT' }) >= 16);
  assert.ok(value(TEACHER_METRIC_NAMES.requests, { method: 'Infer', code: 'FAILED_PRECONDITION' }) >= 1);
  assert.ok(value(TEACHER_METRIC_NAMES.requests, { method: 'InferStream', code: 'OK' }) >= 6);
  assert.ok(value(TEACHER_METRIC_NAMES.requests, { method: 'GetSpec', code: 'OK' }) >= 1);
  assert.ok(value(TEACHER_METRIC_NAMES.images) >= 20);
  assert.ok(value(`${TEACHER_METRIC_NAMES.batchSize}_count`) >= 1);
  assert.ok(value(`${TEACHER_METRIC_NAMES.inferenceDuration}_sum`) > 0);
  assert.ok(value(`${TEACHER_METRIC_NAMES.requestDuration}_count`, { method: 'Infer' }) >= 5);
  for (const encoding of ['fp32', 'fp16', 'sparse']) assert.ok(value(TEACHER_METRIC_NAMES.outputBytes, { encoding }) > 0, encoding);
  assert.equal(value(TEACHER_METRIC_NAMES.modelInfo, { replica_id: 'teacher-test-0', spec_hash: tiny.teacher.specHash }), 1);
  assert.ok(m.has('process_cpu_user_seconds_total'), 'default process metrics');
  const health = await fetch(`${base}/healthz`);
  assert.deepEqual([health.status, await health.text()], [200, 'serving\n']);
});

type HealthClient = Client & {
  check(req: { service: string }, cb: (err: ServiceError | null, res: { status: string }) => void): void;
  watch(req: { service: string }): NodeJS.EventEmitter;
};
const HealthClient = makeClientConstructor(healthService as never, 'grpc.health.v1.Health') as unknown as new (
  address: string, creds: ReturnType<typeof credentials.createInsecure>) => HealthClient;

test('grpc.health.v1 says SERVING for the server and for kd.v1.TeacherService', async () => {
  const h = new HealthClient(server.address, credentials.createInsecure());
  const check = (service: string) => new Promise<string>((resolve, reject) => h.check({ service }, (err, res) => (err ? reject(err) : resolve(res.status))));
  assert.equal(await check(''), 'SERVING');
  assert.equal(await check('kd.v1.TeacherService'), 'SERVING');
  await assert.rejects(check('kd.v1.Nope'), (e: ServiceError) => e.code === status.NOT_FOUND);
  h.close();
});

test('server reflection lists the services and serves their descriptors from the .proto files', async () => {
  const reflectionRoot = join(createRequire(import.meta.url).resolve('@grpc/reflection/package.json'), '..', 'build', 'proto');
  const pkg = loadPackageDefinition(loadSync('grpc/reflection/v1/reflection.proto', { includeDirs: [reflectionRoot], keepCase: true })) as never as {
    grpc: { reflection: { v1: { ServerReflection: new (a: string, c: ReturnType<typeof credentials.createInsecure>) => Client & { serverReflectionInfo(): ClientDuplexStream<object, Record<string, never>> } } } };
  };
  const r = new pkg.grpc.reflection.v1.ServerReflection(server.address, credentials.createInsecure());
  const call = r.serverReflectionInfo();
  const answers: Array<Record<string, { service?: Array<{ name: string }>; file_descriptor_proto?: Buffer[] }>> = [];
  const done = new Promise<void>((resolve, reject) => {
    call.on('data', (res) => answers.push(res));
    call.on('end', resolve);
    call.on('error', reject);
  });
  call.write({ list_services: '' });
  call.write({ file_containing_symbol: 'kd.v1.TeacherService' });
  call.end();
  await done;
  const names = answers[0].list_services_response.service!.map((s) => s.name).sort();
  assert.deepEqual(names, ['grpc.health.v1.Health', 'kd.v1.TeacherService']);
  // proto-loader merges a package's files into one descriptor; it must hold the imported Tensor too
  const files = answers[1].file_descriptor_response.file_descriptor_proto!.map((f) => Buffer.from(f));
  for (const symbol of ['TeacherService', 'InferRequest', 'InferTimings', 'SparseIndex']) assert.ok(files.some((f) => f.includes(symbol)), symbol);
  r.close();
});

test('SIGTERM: NOT_SERVING, requests in flight complete (streams then end UNAVAILABLE), new ones get UNAVAILABLE, exit 0 within 10 s', async () => {
  // A 3 s batching delay keeps the request queued when the signal comes; shutdown must run it at once.
  const p = await startTeacherProcess(['--weights', tiny.dir, '--max-batch', '8', '--max-queue-delay-ms', '3000', '--metrics-port', 'none']);
  const cl = client(p.address);
  const h = new HealthClient(p.address, credentials.createInsecure());
  try {
    const statuses: string[] = [];
    const watch = h.watch({ service: 'kd.v1.TeacherService' });
    watch.on('data', (res: { status: string }) => statuses.push(res.status));
    watch.on('error', () => {});
    const x = randomImages(1, 64, 64, 11);
    const inFlight = infer(cl, { requestId: 'in-flight', images: imagesTensor(x, [1, 64, 64, 3]) });
    // an open stream with a request in flight: it gets its answer, then the stream ends UNAVAILABLE
    const stream = cl.inferStream();
    const streamed: string[] = [];
    const streamEnd = new Promise<ServiceError>((resolve) => {
      stream.on('data', (res: InferResponse) => streamed.push(res.requestId));
      stream.on('error', resolve);
    });
    stream.write(request({ requestId: 'streamed', images: imagesTensor(x, [1, 64, 64, 3]) }));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(statuses, ['SERVING']);
    const t = performance.now();
    p.proc.kill('SIGTERM');
    const res = await inFlight;
    assertHeads(res, x, 1, 64, 64, 1e-4, 'in-flight');
    assert.ok(res.timings!.queueSeconds < 2.5, `flushed without waiting for the batch to fill (${res.timings!.queueSeconds} s)`);
    await assert.rejects(infer(cl, { images: imagesTensor(x, [1, 64, 64, 3]) }, 5000), (e: ServiceError) => e.code === status.UNAVAILABLE);
    expectStatus(status.UNAVAILABLE, /shutting down/)(await streamEnd);
    assert.deepEqual(streamed, ['streamed']);
    assert.equal(await p.exited, 0);
    assert.ok(performance.now() - t < 10_000);
    assert.ok(statuses.includes('NOT_SERVING'), `health watch saw ${statuses}`);
    assert.match(p.stderr(), /"msg":"shutting down: finishing requests in flight"/);
    assert.match(p.stderr(), /"msg":"stopped"/);
  } finally {
    cl.close();
    h.close();
    p.kill();
  }
});

