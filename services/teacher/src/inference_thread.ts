import { Worker } from 'node:worker_threads';
import type { TeacherSpec } from '@kd/proto';
import type { FromInference, InferenceInit, ToInference } from './inference_protocol.ts';
import type { ImageBatch } from './preprocess.ts';
import type { HeadOutput } from './runner.ts';

/** The model could not be loaded on the inference thread; the message names the file. */
export class TeacherLoadError extends Error {
  override name = 'TeacherLoadError';
}

export interface LoadedInference {
  spec: TeacherSpec;
  specHash: string;
  dir: string;
  step: number;
  backend: string;
  warmUpSeconds: number;
}

/** The teacher model on a worker thread: `run` merges request batches and returns each one's heads. */
export class InferenceThread {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (o: HeadOutput[][]) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker, readonly loaded: LoadedInference) {
    worker.on('message', (m: FromInference) => {
      if (m.type !== 'done' && m.type !== 'error') return;
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.type === 'done') p?.resolve(m.outputs);
      else p?.reject(new Error(m.message));
    });
    const fail = (error: Error) => {
      this.failure ??= error;
      for (const p of this.pending.values()) p.reject(this.failure);
      this.pending.clear();
    };
    worker.on('error', (error) => fail(new Error(`inference thread crashed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => fail(new Error(`inference thread exited (code ${code})`)));
  }

  /** Loads `weights` on a new thread and warms the model up; rejects with TeacherLoadError. */
  static async start(weights: string, log: (line: string) => void): Promise<InferenceThread> {
    const worker = new Worker(new URL('./inference_worker_entry.mjs', import.meta.url), { workerData: { weights } satisfies InferenceInit, execArgv: [] });
    worker.on('message', (m: FromInference) => {
      if (m.type === 'log') log(m.line);
    });
    try {
      const loaded = await new Promise<LoadedInference>((resolve, reject) => {
        worker.on('message', (m: FromInference) => {
          if (m.type === 'ready') resolve(m);
          if (m.type === 'failed') reject(new TeacherLoadError(m.message));
        });
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new TeacherLoadError(`inference thread exited (code ${code}) while loading ${weights}`)));
      });
      return new InferenceThread(worker, loaded);
    } catch (error) {
      await worker.terminate();
      throw error;
    }
  }

  /** Runs the batches (equal H, W) as one; each batch's buffer moves to the thread. */
  run(inputs: ImageBatch[]): Promise<HeadOutput[][]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const whole = inputs.filter((b) => b.values.byteOffset === 0 && b.values.byteLength === b.values.buffer.byteLength).map((b) => b.values.buffer as ArrayBuffer);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'run', id, inputs } satisfies ToInference, [...new Set(whole)]);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
