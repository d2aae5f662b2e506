// `kd bench teacher`: the teacher service against the same model in this process, the dynamic
// batcher against one big client, and the bytes each output encoding costs per image.
import { join } from 'node:path';
import { Command } from 'commander';
import { credentials, Metadata } from '@grpc/grpc-js';
import { readCheckpointConfig, evalLoaderFor, openSplit } from '@kd/detection';
import { loadTeacherModel } from '@kd/distill';
import { initBackend } from '@kd/engine';
import { generateShapesDataset } from '@kd/data';
import { GRPC_MESSAGE_OPTIONS, InferResponse, OutputEncoding, TeacherServiceClient, type InferRequest } from '@kd/proto';
import { GrpcTeacher, InProcessTeacher, SHIPPED_TEACHER, type ImageBatch } from '@kd/trainer';
import { loadConfig } from '@kd/config';
import { startService } from '../service_process.ts';
import { exitTwoOnUsageError, positiveInt, reportUserErrors } from './common.ts';
import { tinyTeacher } from './bench_fixtures.ts';
import { imagesRequestTensor, withTempDir } from './bench_util.ts';

interface Options { weights?: string; size?: number; batch: number; requests: number; json?: boolean; quick?: boolean }

/** Real images of the built-in dataset, preprocessed at `size` as a trainer would send them. */
async function imageBatch(dir: string, batch: number, size: number): Promise<ImageBatch> {
  await generateShapesDataset({ out: dir, train: 1, test: batch, unlabeled: 0, size: 320, seed: 7 });
  const config = loadConfig(join(import.meta.dirname, '../../../../configs/yolov3_r34_shapes.yml'), [`dataset.dir=${dir}`, `eval_reader.size=${size}`, `eval_reader.batch_size=${batch}`, 'train_reader.workers=0']);
  const loader = evalLoaderFor(config, await openSplit(config, 'test'));
  try {
    const first = await loader.next();
    if (first.done) throw new Error('no test images');
    return { images: first.value.images, shape: [batch, size, size, 3] };
  } finally {
    await loader.close();
  }
}

/** Images per second of `requests` calls of `call`, `inFlight` at a time. */
async function rate(requests: number, inFlight: number, imagesPerCall: number, call: () => Promise<unknown>): Promise<number> {
  let started = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (started < requests) {
      started += 1;
      await call();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return (requests * imagesPerCall) / ((performance.now() - t0) / 1000);
}

function inferCall(client: TeacherServiceClient, request: InferRequest): Promise<InferResponse> {
  return new Promise((resolve, reject) => client.infer(request, new Metadata(), {}, (e, r) => (e ? reject(e) : resolve(r))));
}

export function benchTeacherCommand(): Command {
  return exitTwoOnUsageError(new Command('teacher'))
    .description('teacher service over loopback gRPC vs in-process, dynamic batching, and bytes per image of each output encoding')
    .option('--weights <dir>', `teacher checkpoint (default ${SHIPPED_TEACHER})`)
    .option('--size <px>', 'input size (default: the teacher\'s eval size)', positiveInt)
    .option('--batch <n>', 'images per request of the big client', positiveInt, 8)
    .option('--requests <n>', 'timed requests per measurement', positiveInt, 12)
    .option('--quick', 'a tiny random teacher at 64 px and few requests (seconds, for tests)')
    .option('--json', 'print one JSON object instead of a table')
    .action((opts: Options) => reportUserErrors('bench teacher', () => withTempDir('kd-bench-teacher-', (tmp) => benchTeacher(opts, tmp))));
}

async function benchTeacher(opts: Options, tmp: string): Promise<void> {
  const say = (line: string) => process.stderr.write(`kd bench teacher: ${line}\n`);
  const backend = await initBackend();
  const weights = opts.quick ? await tinyTeacher(join(tmp, 'teacher')) : opts.weights ?? SHIPPED_TEACHER;
  const size = opts.size ?? (opts.quick ? 64 : readCheckpointConfig(weights).eval_reader.size);
  const requests = opts.quick ? 3 : opts.requests;
  const batch = await imageBatch(join(tmp, 'data'), opts.batch, size);
  const teacher = loadTeacherModel(weights);
  const local = new InProcessTeacher(teacher.model, teacher.spec);
  const inProcess = async () => (await local.infer(batch)).forEach((t) => t.dispose());
  await inProcess();
  say(`in-process: ${requests} batches of ${opts.batch} at ${size}x${size}`);
  const inprocessImgS = await rate(requests, 1, opts.batch, inProcess);
  teacher.model.store.dispose();

  const service = await startService('teacher', ['--weights', weights, '--port', '0', '--metrics-port', 'none', '--max-batch', String(Math.max(16, opts.batch)), '--max-queue-delay-ms', '5']);
  try {
    const remote = await GrpcTeacher.connect({
      address: `grpc://${service.address}`, inputDtype: 'float16', outputEncoding: 'fp16', sparseThreshold: 0, timeoutSeconds: 120, log: say,
    });
    const viaGrpc = async () => (await remote.infer(batch)).forEach((t) => t.dispose());
    await viaGrpc();
    say(`gRPC, fp16, one client with 2 requests in flight`);
    const grpcImgS = await rate(requests, 2, opts.batch, viaGrpc);
    await remote.close();

    const clients = Array.from({ length: 4 }, () => new TeacherServiceClient(service.address, credentials.createInsecure(), GRPC_MESSAGE_OPTIONS));
    const request = (images: ImageBatch, encoding: OutputEncoding, sparseThreshold = 0): InferRequest => ({
      requestId: '', jobId: 'bench', clientId: 'bench', images: imagesRequestTensor(images), encoding, sparseThreshold, expectedSpecHash: '',
    });
    const big = request(batch, OutputEncoding.OUTPUT_ENCODING_FP16);
    const quarter = opts.batch / 4;
    if (!Number.isInteger(quarter)) throw new Error(`--batch ${opts.batch} must split into 4 clients' equal batches`);
    const small = request({ images: batch.images.subarray(0, quarter * size * size * 3), shape: [quarter, size, size, 3] }, OutputEncoding.OUTPUT_ENCODING_FP16);
    say(`one client sending batch ${opts.batch}, then 4 clients sending batch ${quarter} at once`);
    const batch8ImgS = await rate(requests, 1, opts.batch, () => inferCall(clients[0], big));
    const perClient = await Promise.all(clients.map((c) => rate(requests, 1, quarter, () => inferCall(c, small))));
    const batch2x4ImgS = perClient.reduce((a, b) => a + b, 0);

    const threshold = loadConfig(join(import.meta.dirname, '../../../../configs/yolov3_mobilenet_v1_shapes.yml')).teacher.sparse_threshold;
    const bytes = async (encoding: OutputEncoding, t = 0) => InferResponse.encode(await inferCall(clients[0], request(batch, encoding, t))).finish().length / opts.batch;
    const bytesPerImage = {
      fp32: await bytes(OutputEncoding.OUTPUT_ENCODING_FP32),
      fp16: await bytes(OutputEncoding.OUTPUT_ENCODING_FP16),
      sparse: await bytes(OutputEncoding.OUTPUT_ENCODING_SPARSE, threshold),
    };
    clients.forEach((c) => c.close());
    const result = {
      weights, size, batch: opts.batch, requests, backend: backend.name,
      inprocess_img_s: inprocessImgS, grpc_img_s: grpcImgS, grpc_vs_inprocess: grpcImgS / inprocessImgS,
      batch8_img_s: batch8ImgS, batch2x4_img_s: batch2x4ImgS, dynamic_batching_ratio: batch2x4ImgS / batch8ImgS,
      bytes_per_image: bytesPerImage, sparse_threshold: threshold, sparse_vs_fp32: bytesPerImage.fp32 / bytesPerImage.sparse,
    };
    process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : `${formatTable(result)}\n`);
  } finally {
    await service.stop();
  }
}

function formatTable(r: {
  weights: string; size: number; batch: number; backend: string; inprocess_img_s: number; grpc_img_s: number; grpc_vs_inprocess: number;
  batch8_img_s: number; batch2x4_img_s: number; dynamic_batching_ratio: number; bytes_per_image: Record<string, number>; sparse_threshold: number; sparse_vs_fp32: number;
}): string {
  const q = r.batch / 4;
  return [
    `teacher ${r.weights}, ${r.size}x${r.size}, backend ${r.backend}`,
    `in-process, batch ${r.batch}            ${r.inprocess_img_s.toFixed(2)} images/s`,
    `gRPC fp16, batch ${r.batch}, 2 in flight ${r.grpc_img_s.toFixed(2)} images/s (${r.grpc_vs_inprocess.toFixed(2)}x in-process)`,
    `1 client, batch ${r.batch}               ${r.batch8_img_s.toFixed(2)} images/s`,
    `4 clients, batch ${q} each           ${r.batch2x4_img_s.toFixed(2)} images/s (${r.dynamic_batching_ratio.toFixed(2)}x one client)`,
    `bytes per image                 fp32 ${r.bytes_per_image.fp32.toFixed(0)}, fp16 ${r.bytes_per_image.fp16.toFixed(0)}, sparse@${r.sparse_threshold} ${r.bytes_per_image.sparse.toFixed(0)} (${r.sparse_vs_fp32.toFixed(1)}x smaller than fp32)`,
  ].join('\n');
}
