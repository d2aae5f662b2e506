// Helpers of the teacher-service tests: a tiny teacher checkpoint in a temp folder, the real
// service process on port 0, clients, and the in-process reference the outputs must equal.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { parseConfig } from '@kd/config';
import { createYoloV3, inferenceContext, saveCheckpoint } from '@kd/detection';
import { loadTeacherModel, type LoadedTeacher } from '@kd/distill';
import { decodeTensor, initBackend } from '@kd/engine';
import { Dtype, type InferRequest, type InferResponse, TeacherServiceClient, type Tensor } from '@kd/proto';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const TEACHER_MAIN = join(REPO, 'services/teacher/src/main.ts');

/** 64 px MobileNetV1-0.25 YOLOv3 with 3 classes: a forward of 8 images takes ~20 ms on wasm. */
export async function makeTinyTeacher(): Promise<{ dir: string; root: string; teacher: LoadedTeacher; cleanup(): void }> {
  await initBackend('wasm', () => {});
  const root = mkdtempSync(join(tmpdir(), 'kd-teacher-test-'));
  const dir = join(root, 'tiny_teacher');
  const config = parseConfig({
    num_classes: 3, max_iters: 1, backbone: { name: 'MobileNetV1', width: 0.25 }, yolo_head: { width: 0.125 },
    dataset: { dir: 'unused' }, eval_reader: { size: 64 },
  });
  const model = createYoloV3(config, 7);
  await saveCheckpoint(dir, model.store, config, 1, { extra: { classes: ['circle', 'square', 'triangle'] } });
  model.store.dispose();
  const teacher = loadTeacherModel(dir);
  return { dir, root, teacher, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export interface TeacherProcess {
  proc: ChildProcessWithoutNullStreams;
  port: number;
  address: string;
  /** null with --metrics-port none. */
  metricsPort: number | null;
  /** stderr so far (JSON log lines). */
  stderr(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  kill(): void;
}

/** Starts `node --import tsx services/teacher/src/main.ts ...args` and waits for "listening on". */
export function startTeacherProcess(args: string[], timeoutMs = 30_000): Promise<TeacherProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', TEACHER_MAIN, '--port', '0', '--metrics-port', '0', ...args], {
    cwd: REPO, env: { ...process.env, KD_BACKEND: 'wasm', KD_LOG_LEVEL: 'info', KD_LOG_FORMAT: 'json' },
  });
  let out = '';
  let err = '';
  const wantMetrics = !args.includes('none');
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => fail(`no "listening on" within ${timeoutMs} ms`), timeoutMs);
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(new Error(`teacher process: ${why}\nstdout: ${out}\nstderr: ${err}`));
    };
    void exited.then((code) => fail(`exited with ${code} before listening`));
    // stdout and stderr are separate pipes: either may be read first
    const check = () => {
      const m = /^listening on (\S+):(\d+)$/m.exec(out);
      const metrics = err.split('\n').filter((l) => l.includes('"metrics listening"')).map((l) => JSON.parse(l) as { port: number })[0];
      if (settled || !m || (wantMetrics && !metrics)) return;
      settled = true;
      clearTimeout(timer);
      const port = Number(m[2]);
      resolve({
        proc, port, address: `127.0.0.1:${port}`, metricsPort: metrics?.port ?? null, stderr: () => err, exited,
        kill: () => proc.exitCode === null && proc.kill('SIGKILL'),
      });
    };
    proc.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      check();
    });
    proc.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      check();
    });
  });
}

export function client(address: string): TeacherServiceClient {
  return new TeacherServiceClient(address, credentials.createInsecure(), {
    'grpc.max_receive_message_length': 64 * 2 ** 20, 'grpc.max_send_message_length': 64 * 2 ** 20,
  });
}

export function request(over: Partial<InferRequest>): InferRequest {
  return { requestId: 'r', jobId: 'test-job', clientId: 'test', encoding: 0, sparseThreshold: 0, expectedSpecHash: '', ...over };
}

export function infer(c: TeacherServiceClient, req: Partial<InferRequest>, deadlineMs = 20_000): Promise<InferResponse> {
  return new Promise((resolve, reject) =>
    c.infer(request(req), new Metadata(), { deadline: Date.now() + deadlineMs }, (err: ServiceError | null, res: InferResponse) => (err ? reject(err) : resolve(res))),
  );
}

/** Seeded normal images [n, h, w, 3]. */
export function randomImages(n: number, h: number, w: number, seed: number): Float32Array {
  return tf.tidy(() => tf.randomNormal([n, h, w, 3], 0, 1, 'float32', seed).dataSync() as Float32Array);
}

export function imagesTensor(values: Float32Array, shape: number[], dtype: Dtype = Dtype.DTYPE_FLOAT32): Tensor {
  return { shape, dtype, data: Buffer.from(values.buffer, values.byteOffset, values.byteLength) };
}

/** The teacher's raw heads for `values` [n, h, w, 3], run in this process: the reference. */
export function referenceHeads(teacher: LoadedTeacher, values: Float32Array, n: number, h: number, w: number): Float32Array[] {
  return tf.tidy(() => teacher.model.forward(tf.tensor4d(values, [n, h, w, 3]), inferenceContext()).map((t) => t.dataSync() as Float32Array));
}

/** Largest |a - b| / max(1, |b|). */
export function maxRelError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}

/** A response tensor as float32 values (sparse ones densified with `fill`). */
export function decode(t: Tensor, fill = 0): Float32Array {
  return decodeTensor({
    shape: t.shape,
    dtype: t.dtype === Dtype.DTYPE_FLOAT16 ? 'float16' : 'float32',
    data: t.data,
    indices: t.sparse ? new Uint32Array(Uint8Array.from(t.sparse.indices).buffer) : undefined,
  }, fill);
}

/** Numbers of a Prometheus exposition: metric name -> [labels, value] samples. */
export function parseMetrics(text: string): Map<string, Array<{ labels: Record<string, string>; value: number }>> {
  const out = new Map<string, Array<{ labels: Record<string, string>; value: number }>>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    const list = out.get(m[1]) ?? [];
    list.push({ labels, value: Number(m[3]) });
    out.set(m[1], list);
  }
  return out;
}
