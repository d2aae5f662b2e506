// Helpers of the evaluator-service tests: tiny datasets and checkpoints made by the kd cli in
// a temp folder, the real service process on port 0, clients, and the shared NATS.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import * as busTesting from '@kd/bus/testing';
import { SHARED_NATS_URL } from '@kd/bus/testing';
import {
  type CheckpointInput, EvaluateRequest, type EvaluationReport, EvaluatorServiceClient, type GetReportRequest,
} from '@kd/proto';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const EVALUATOR_MAIN = join(REPO, 'services/evaluator/src/main.ts');
const KD_BIN = join(REPO, 'services/cli/bin/kd.js');
/** The shipped student: real (non-zero) mAP on the built-in dataset. */
export const SHIPPED_STUDENT = join(REPO, 'models/yolov3_mobilenet_v1_shapes');

/** The shared NATS (JetStream on) of this machine and CI, and test names unique to this process. */
export { SHARED_NATS_URL, uniqueId } from '@kd/bus/testing';

const env = { ...process.env, KD_BACKEND: 'wasm', KD_LOG_LEVEL: 'info', KD_LOG_FORMAT: 'json' };


/** A temp folder; remove it with the returned cleanup (also run at exit). */
export function tempDir(prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', cleanup);
  return { dir, cleanup };
}

export interface KdRun { status: number | null; stdout: string; stderr: string }

/** Runs `kd ...args` to the end. */
export function runKd(args: string[]): Promise<KdRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KD_BIN, ...args], { cwd: REPO, env: { ...env, KD_LOG_LEVEL: 'warn' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** `kd ...args` that must succeed; returns its stdout. */
export async function kd(args: string[]): Promise<string> {
  const r = await runKd(args);
  if (r.status !== 0) throw new Error(`kd ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

/** A built-in (shapes) dataset of `test` test images at `size` px in `dir`. */
export async function makeDataset(dir: string, test: number, size = 96): Promise<void> {
  await kd(['make-dataset', 'shapes', '--out', dir, '--train', '4', '--test', String(test), '--unlabeled', '0', '--size', String(size)]);
}

/** Trains a tiny student on `data` for `steps` steps (a checkpoint every `snapshot` steps) into `saveDir`. */
export async function trainTiny(data: string, saveDir: string, steps: number, snapshot = 1000): Promise<void> {
  await kd([
    'train', '-c', 'configs/yolov3_mobilenet_v1_shapes.yml', '-o', `dataset.dir=${data}`, '-o', `save_dir=${saveDir}`,
    '-o', `max_iters=${steps}`, '-o', `snapshot_iter=${snapshot}`, '-o', 'log_iter=1', '-o', 'train_reader.batch_size=2',
    '-o', 'train_reader.sizes=[64]', '-o', 'train_reader.workers=0', '-o', 'eval_reader.size=64',
    '-o', 'backbone.width=0.125', '-o', 'yolo_head.width=0.0625',
  ]);
}

/**
 * A copy of the shipped student whose stored config points at `data` and evaluates at `size`
 * px: a real checkpoint with non-zero mAP that evaluates in well under a second.
 */
export function studentCopy(dir: string, data: string, size: number): void {
  cpSync(SHIPPED_STUDENT, dir, { recursive: true });
  const file = join(dir, 'model.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  manifest.config.dataset.dir = data;
  manifest.config.eval_reader.size = size;
  manifest.config.train_reader.workers = 0; // the eval loader's threads; starting them costs more than 4 images
  writeFileSync(file, JSON.stringify(manifest));
}

/** "sha256:<hex>" of a checkpoint, as CheckpointSaved carries it. */
export function checkpointHash(dir: string): string {
  return `sha256:${(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { content_hash: string }).content_hash}`;
}

export interface EvaluatorProcess {
  proc: ChildProcessWithoutNullStreams;
  port: number;
  address: string;
  metricsPort: number;
  /** stderr so far (JSON log lines). */
  stderr(): string;
  /** Parsed log lines so far. */
  logs(): Array<Record<string, unknown> & { msg: string }>;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Calls `fn` on every log line from now on. */
  onLog(fn: (line: Record<string, unknown> & { msg: string }) => void): void;
  kill(signal?: NodeJS.Signals): void;
}

/** Starts `node --import tsx services/evaluator/src/main.ts ...args` and waits for "listening on" and "metrics listening". */
export function startEvaluatorProcess(args: string[], timeoutMs = 30_000): Promise<EvaluatorProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', EVALUATOR_MAIN, '--port', '0', '--metrics-port', '0', ...args], { cwd: REPO, env });
  let out = '';
  let err = '';
  const listeners: Array<(line: Record<string, unknown> & { msg: string }) => void> = [];
  const parsed: Array<Record<string, unknown> & { msg: string }> = [];
  let partial = '';
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => fail(`no "listening on" within ${timeoutMs} ms`), timeoutMs);
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(new Error(`evaluator process: ${why}\nstdout: ${out}\nstderr: ${err}`));
    };
    void exited.then((code) => fail(`exited with ${code} before listening`));
    const check = () => {
      const m = /^listening on (\S+):(\d+)$/m.exec(out);
      const metrics = parsed.find((l) => l.msg === 'metrics listening') as { port: number } | undefined;
      if (settled || !m || !metrics) return;
      settled = true;
      clearTimeout(timer);
      const port = Number(m[2]);
      resolve({
        proc, port, address: `127.0.0.1:${port}`, metricsPort: metrics.port, stderr: () => err, logs: () => parsed, exited,
        onLog: (fn) => listeners.push(fn),
        kill: (signal = 'SIGKILL') => {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
        },
      });
    };
    proc.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      check();
    });
    proc.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        if (!l.startsWith('{')) continue;
        const line = JSON.parse(l) as Record<string, unknown> & { msg: string };
        parsed.push(line);
        for (const fn of listeners) fn(line);
      }
      check();
    });
  });
}

export function client(address: string): EvaluatorServiceClient {
  return new EvaluatorServiceClient(address, credentials.createInsecure());
}

/** The fields of an EvaluateRequest a test sets; the rest (and the checkpoint's) are the proto defaults. */
export type RequestFields = Omit<Partial<EvaluateRequest>, 'checkpoint'> & { checkpoint?: Partial<CheckpointInput> };

export function request(over: RequestFields): EvaluateRequest {
  return EvaluateRequest.fromPartial(over);
}

export function evaluate(c: EvaluatorServiceClient, over: RequestFields): Promise<EvaluationReport> {
  return new Promise((resolve, reject) =>
    c.evaluate(request(over), new Metadata(), { deadline: Date.now() + 30_000 }, (err: ServiceError | null, res) => (err ? reject(err) : resolve(res!.report!))),
  );
}

export function getReport(c: EvaluatorServiceClient, req: GetReportRequest): Promise<EvaluationReport> {
  return new Promise((resolve, reject) =>
    c.getReport(req, new Metadata(), { deadline: Date.now() + 10_000 }, (err: ServiceError | null, res) => (err ? reject(err) : resolve(res!.report!))),
  );
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

export async function fetchMetrics(port: number): Promise<ReturnType<typeof parseMetrics>> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  return parseMetrics(await res.text());
}

/** Whether the shared NATS accepts TCP connections; the tests need it (they never skip). */
export const natsReachable = (url = SHARED_NATS_URL): Promise<boolean> => busTesting.natsReachable(url);

/** Deletes test streams (with their consumers) on the shared NATS; ignores ones already gone. */
export const deleteStreams = (names: string[], url = SHARED_NATS_URL): Promise<void> => busTesting.deleteStreams(url, names);

/** Polls `cond` every 20 ms until it holds; throws after `timeoutMs` (15 s) naming `what`. */
export const waitFor = (what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> => busTesting.waitFor(what, cond, timeoutMs);
