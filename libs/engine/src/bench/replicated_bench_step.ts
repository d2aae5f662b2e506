import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { BenchmarkModel } from './benchmark_model.ts';
import { benchmarkLoss } from './benchmark_loss.ts';
import { packedOffsets, type BenchReplicaReply, type BenchReplicaStep } from './bench_replica_protocol.ts';

type Done = Extract<BenchReplicaReply, { type: 'done' }>;

/**
 * Where one replicated step's milliseconds went, on the main thread, in order: the weights to
 * shared memory and the worker's shard sent; this shard's gradients; the wait for the
 * worker's (0 when it finished first); averaging and the optimizer's update (the worker idles).
 */
export interface ReplicaStepPhases { share_ms: number; own_gradients_ms: number; wait_ms: number; update_ms: number }

/**
 * The benchmark's train step on both cores, the way `replicas: 2` trains a detector
 * (libs/detection's ReplicatedTrainStep): the batch is split in two shards, this thread
 * computes the first shard's gradients while a worker thread (its own backend instance)
 * computes the second's; the weights go to the worker through shared memory before each
 * step, its gradients come back the same way, and the average (weighted by shard size)
 * is applied here by the optimizer. The loss is a mean, so that average is the whole batch's.
 */
export class ReplicatedBenchStep {
  private pending: { resolve: (r: Done) => void; reject: (e: Error) => void } | null = null;
  private readonly weights: Float32Array;
  private readonly replicaGrads: Float32Array;
  private readonly offsets: number[];
  /** The worker's live tensor count after the last step (a leak shows as growth). */
  replicaTensors = 0;
  /** The phases of the last step. */
  lastPhases: ReplicaStepPhases = { share_ms: 0, own_gradients_ms: 0, wait_ms: 0, update_ms: 0 };

  private constructor(private readonly worker: Worker, private readonly model: BenchmarkModel, weights: SharedArrayBuffer, grads: SharedArrayBuffer) {
    this.weights = new Float32Array(weights);
    this.replicaGrads = new Float32Array(grads);
    this.offsets = packedOffsets(model.variables.map((v) => v.size)).offsets;
    worker.on('message', (message: BenchReplicaReply) => {
      const pending = this.pending;
      this.pending = null;
      if (message.type === 'error') pending?.reject(new Error(`benchmark replica failed: ${message.message}`));
      else pending?.resolve(message as Done);
    });
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => this.fail(new Error(`benchmark replica exited with code ${code}`)));
  }

  /** Starts the worker thread on `backend` and waits until it is ready. */
  static async start(model: BenchmarkModel, backend: string): Promise<ReplicatedBenchStep> {
    const bytes = packedOffsets(model.variables.map((v) => v.size)).total * Float32Array.BYTES_PER_ELEMENT;
    const weights = new SharedArrayBuffer(bytes);
    const grads = new SharedArrayBuffer(bytes);
    const worker = new Worker(new URL('./bench_replica_entry.mjs', import.meta.url), { workerData: { backend, weights, grads }, execArgv: [] });
    const step = new ReplicatedBenchStep(worker, model, weights, grads);
    try {
      await new Promise<Done>((resolve, reject) => { step.pending = { resolve, reject }; });
    } catch (error) {
      await step.close();
      throw error;
    }
    return step;
  }

  private fail(error: Error): void {
    this.pending?.reject(error);
    this.pending = null;
  }

  /**
   * One Adam step on a batch of host images ([N, H, W, 3], N >= 2), as a detector's batch
   * arrives from the data loader: half here, half on the worker.
   */
  async run(images: Float32Array, shape: [number, number, number, number], optimizer: tf.Optimizer): Promise<void> {
    const t0 = performance.now();
    const [n, h, w, c] = shape;
    const own = Math.ceil(n / 2);
    const split = own * h * w * c;
    for (const [i, v] of this.model.variables.entries()) this.weights.set(v.dataSync(), this.offsets[i]);
    // a copy of the second shard's range only (a view would clone the whole batch's buffer)
    const message: BenchReplicaStep = { images: images.slice(split), shape: [n - own, h, w, c] };
    const remote = new Promise<Done>((resolve, reject) => { this.pending = { resolve, reject }; });
    this.worker.postMessage(message);
    const t1 = performance.now();
    const ownShard = tf.tensor4d(images.subarray(0, split), [own, h, w, c]);
    const { value, grads } = tf.variableGrads(() => benchmarkLoss(this.model, ownShard), this.model.variables);
    value.dataSync();
    const t2 = performance.now();
    let done: Done;
    try {
      done = await remote;
    } catch (error) {
      tf.dispose(grads);
      throw error;
    } finally {
      tf.dispose([ownShard, value]);
    }
    this.replicaTensors = done.tensors;
    const t3 = performance.now();
    tf.tidy(() => {
      const averaged: tf.NamedTensorMap = {};
      for (const [i, v] of this.model.variables.entries()) {
        const theirs = tf.tensor(this.replicaGrads.subarray(this.offsets[i], this.offsets[i] + v.size), v.shape);
        averaged[v.name] = tf.add(tf.mul(grads[v.name], own / n), tf.mul(theirs, (n - own) / n));
      }
      optimizer.applyGradients(averaged);
    });
    tf.dispose(grads);
    this.model.variables[0].dataSync();
    const t4 = performance.now();
    this.lastPhases = { share_ms: t1 - t0, own_gradients_ms: t2 - t1, wait_ms: t3 - t2, update_ms: t4 - t3 };
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
