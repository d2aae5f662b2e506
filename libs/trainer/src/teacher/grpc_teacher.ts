import { Worker } from 'node:worker_threads';
import type * as tf from '@tensorflow/tfjs-core';
import type { TeacherSpec } from '@kd/proto';
import type { GrpcTeacherOptions } from './grpc_client.ts';
import type { FromWorker, ToWorker, WireError, WorkerInit } from './grpc_worker_protocol.ts';
import type { ImageBatch, TeacherSource } from './source.ts';
import { outputTensors, type OutputArray } from './wire.ts';

/** An error from the gRPC thread, with its class name and gRPC status code kept. */
function fromWire(e: WireError): Error {
  const error = new Error(e.message) as Error & { code?: number };
  error.name = e.name;
  if (e.code !== undefined) error.code = e.code;
  return error;
}

/**
 * Teacher replicas behind gRPC as a TeacherSource: round robin, failover, outage backoff and
 * spec checks (GrpcTeacherClient), run on a worker thread so that transfers go on while the
 * training thread computes. Outputs come back as transferred buffers and become tensors here.
 */
export class GrpcTeacher implements TeacherSource {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (o: OutputArray[]) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker, private readonly teacherSpec: TeacherSpec, private readonly address: string) {
    worker.on('message', (m: FromWorker) => {
      if (m.type !== 'result' && m.type !== 'error') return;
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.type === 'result') p?.resolve(m.outputs);
      else p?.reject(fromWire(m.error));
    });
    const fail = (error: Error) => {
      this.failure ??= error;
      for (const p of this.pending.values()) p.reject(this.failure);
      this.pending.clear();
    };
    worker.on('error', (error) => fail(new Error(`the teacher client thread crashed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => fail(new Error(`the teacher client thread exited (code ${code})`)));
  }

  /** Starts the client thread and connects to the replicas (GrpcTeacherClient.connect); rejects with its error. */
  static async connect(o: GrpcTeacherOptions): Promise<GrpcTeacher> {
    const { log, onFailover, ...init } = o;
    const worker = new Worker(new URL('./grpc_worker_entry.mjs', import.meta.url), { workerData: init satisfies WorkerInit, execArgv: [] });
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'log') log(m.line);
      if (m.type === 'failover') onFailover?.();
    });
    try {
      const spec = await new Promise<TeacherSpec>((resolve, reject) => {
        worker.on('message', (m: FromWorker) => {
          if (m.type === 'ready') resolve(m.spec);
          if (m.type === 'failed') reject(fromWire(m.error));
        });
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`the teacher client thread exited (code ${code}) before connecting`)));
      });
      return new GrpcTeacher(worker, spec, o.address);
    } catch (error) {
      await worker.terminate();
      throw error;
    }
  }

  async spec(): Promise<TeacherSpec> {
    return this.teacherSpec;
  }

  describe(): string {
    return `${this.teacherSpec.modelName} at ${this.address}`;
  }

  async infer(batch: ImageBatch): Promise<tf.Tensor4D[]> {
    if (this.failure) throw this.failure;
    const id = this.nextId++;
    // a copy: the batch's buffer stays the student's, the copy moves to the client thread
    const images = batch.images.slice();
    const outputs = await new Promise<OutputArray[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'infer', id, images, shape: batch.shape } satisfies ToWorker, [images.buffer as ArrayBuffer]);
    });
    return outputTensors(outputs);
  }

  async close(): Promise<void> {
    this.worker.postMessage({ type: 'close' } satisfies ToWorker);
    await new Promise((resolve) => {
      const timer = setTimeout(() => void this.worker.terminate().then(resolve), 2000);
      this.worker.once('exit', () => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });
  }
}
