import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, type KdConfig } from '@kd/config';
import type { TrainBatch } from '@kd/data';
import type { ReplicaStepPhases } from '@kd/engine';
import { learningRate } from './lr_schedule.ts';
import { layoutSize, paramLayout, type ParamSlot, type ReplicaInit, type ReplicaReply, type ReplicaStep } from './replica_protocol.ts';
import { shardBatch } from './shard_batch.ts';
import { discardGradients, type BatchGradients, type StepLosses, type StepRunner, type TrainStep } from './train_step.ts';

type Done = Extract<ReplicaReply, { type: 'done' }>;

/** A replica thread: one step in flight at a time. */
class Replica {
  private pending: { resolve: (r: Done) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  readonly grads: Float32Array;
  readonly ready: Promise<void>;

  private readonly worker: Worker;

  constructor(readonly index: number, init: ReplicaInit) {
    const worker = new Worker(new URL('./replica_worker_entry.mjs', import.meta.url), { workerData: init, execArgv: [] });
    this.worker = worker;
    this.grads = new Float32Array(init.grads);
    this.ready = new Promise((resolve, reject) => {
      this.pending = { resolve: () => resolve(), reject };
    });
    worker.on('message', (message: ReplicaReply) => {
      const pending = this.pending;
      this.pending = null;
      if (message.type === 'error') {
        const error = new Error(`data-parallel replica ${index} failed: ${message.message}`);
        if (message.stack) error.stack = message.stack;
        pending?.reject(error);
      } else {
        pending?.resolve(message as Done);
      }
    });
    worker.on('error', (error) => this.fail(new Error(`data-parallel replica ${index} crashed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => this.fail(new Error(`data-parallel replica ${index} exited with code ${code}`)));
  }

  step(shard: TrainBatch): Promise<Done> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      // copies of the shard's ranges only (a view would clone the whole batch's buffers)
      const message: ReplicaStep = {
        type: 'step',
        shard: { ...shard, images: shard.images.slice(), gtBox: shard.gtBox.slice(), gtClass: shard.gtClass.slice(), gtScore: shard.gtScore.slice(), labeled: shard.labeled.slice() },
      };
      this.worker.postMessage(message);
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.pending?.reject(this.failure);
    this.pending = null;
  }

  async close(): Promise<void> {
    this.failure ??= new Error(`data-parallel replica ${this.index} is closed`);
    await this.worker.terminate();
  }
}

/**
 * What `replicas` may be: every replica needs an image of each batch, and only the detection
 * loss is split (kd distill's weights labeled and unlabeled images differently, so shard
 * averages would not be the batch's). Throws a ConfigError naming the keys.
 */
export function checkReplicas(replicas: number, config: KdConfig, distilling = false): void {
  if (replicas > 1 && distilling) throw new ConfigError(`replicas: ${replicas}: data-parallel replicas train the detection loss only (kd train); kd distill runs with replicas: 1`);
  if (replicas > config.train_reader.batch_size) {
    throw new ConfigError(`replicas: ${replicas} is more than train_reader.batch_size: ${config.train_reader.batch_size} (every replica needs an image per batch)`);
  }
}

/**
 * Data-parallel training on one machine: every batch is split into `replicas` shards; the
 * calling thread computes the first and worker threads (each with its own backend instance,
 * e.g. its own single-threaded wasm) the others, at the same time. Gradients and losses are
 * averaged weighted by shard size, so they equal the whole batch's except for batch norm,
 * whose statistics are per shard, as in PaddleDetection's multi-GPU training without sync BN
 * (the running statistics move by their average). The main thread owns the weights and the
 * optimizer, and shares the weights with the replicas through shared memory before each step.
 */
export class ReplicatedTrainStep implements StepRunner {
  private readonly weights: Float32Array;
  /** Each replica thread's live tensor count after the last step (a leak shows as growth). */
  replicaTensors: number[] = [];
  /** Where the last step's time went on this thread (`kd bench train` reports their medians). */
  lastPhases: ReplicaStepPhases = { share_ms: 0, own_gradients_ms: 0, wait_ms: 0, update_ms: 0 };

  private constructor(readonly trainStep: TrainStep, private readonly replicas: Replica[], private readonly layout: ParamSlot[], weights: SharedArrayBuffer) {
    this.weights = new Float32Array(weights);
  }

  /** Starts `replicas - 1` worker threads next to the calling thread and waits until they are ready. */
  static async start(trainStep: TrainStep, replicas: number, backend: string): Promise<ReplicatedTrainStep> {
    checkReplicas(replicas, trainStep.config, trainStep.extraLoss !== undefined);
    const layout = paramLayout(trainStep.model.store.trainable());
    const bytes = layoutSize(layout) * Float32Array.BYTES_PER_ELEMENT;
    const weights = new SharedArrayBuffer(bytes);
    const workers = Array.from({ length: replicas - 1 }, (_, i) =>
      new Replica(i + 1, { config: trainStep.config, backend, layout, weights, grads: new SharedArrayBuffer(bytes) }));
    const started = new ReplicatedTrainStep(trainStep, workers, layout, weights);
    try {
      await Promise.all(workers.map((w) => w.ready));
    } catch (error) {
      await started.close();
      throw error;
    }
    return started;
  }

  get model() {
    return this.trainStep.model;
  }

  get optimizer() {
    return this.trainStep.optimizer;
  }

  async run(batch: TrainBatch, step: number): Promise<StepLosses & { lr: number }> {
    const t0 = performance.now();
    const lr = learningRate(step, this.trainStep.config.optimizer);
    const shards = shardBatch(batch, Math.min(this.replicas.length + 1, batch.ids.length));
    this.shareWeights();
    const remote = shards.slice(1).map((shard, i) => this.replicas[i].step(shard));
    const t1 = performance.now();
    let own: BatchGradients;
    try {
      own = this.trainStep.gradients(shards[0]);
    } catch (error) {
      await Promise.allSettled(remote);
      throw error;
    }
    const t2 = performance.now();
    let replies: Done[];
    try {
      replies = await Promise.all(remote);
    } catch (error) {
      await Promise.allSettled(remote);
      discardGradients(own);
      throw error;
    }
    this.replicaTensors = replies.map((r) => r.tensors);
    const t3 = performance.now();
    const combined = this.average(own, replies, shards.map((s) => s.ids.length / batch.ids.length));
    this.trainStep.apply(combined, lr, batch, step);
    this.lastPhases = { share_ms: t1 - t0, own_gradients_ms: t2 - t1, wait_ms: t3 - t2, update_ms: performance.now() - t3 };
    return { ...combined.losses, lr };
  }

  private shareWeights(): void {
    for (const [i, p] of this.trainStep.model.store.trainable().entries()) this.weights.set(p.variable.dataSync(), this.layout[i].offset);
  }

  /** Weighted means of gradients, BN batch statistics and losses; takes ownership of own's tensors. */
  private average(own: BatchGradients, replies: Done[], share: number[]): BatchGradients {
    const params = this.trainStep.model.store.trainable();
    const grads: tf.NamedTensorMap = {};
    for (const [i, p] of params.entries()) {
      const mine = own.grads[p.variable.name];
      if (mine == null) continue;
      const { offset, size } = this.layout[i];
      grads[p.variable.name] = tf.tidy(() => tf.addN([
        tf.mul(mine, share[0]),
        ...this.replicas.slice(0, replies.length).map((r, k) => tf.mul(tf.tensor(r.grads.subarray(offset, offset + size), mine.shape), share[k + 1])),
      ]));
    }
    tf.dispose(own.grads);
    for (const [j, u] of own.ctx.statUpdates.entries()) {
      const [mean, variance] = tf.tidy(() => [
        tf.addN([tf.mul(u.batchMean, share[0]), ...replies.map((r, k) => tf.mul(tf.tensor(r.stats[j][0]), share[k + 1]))]),
        tf.addN([tf.mul(u.batchVariance, share[0]), ...replies.map((r, k) => tf.mul(tf.tensor(r.stats[j][1]), share[k + 1]))]),
      ]);
      tf.dispose([u.batchMean, u.batchVariance]);
      u.batchMean = mean;
      u.batchVariance = variance;
    }
    const losses = Object.fromEntries(Object.entries(own.losses).map(([key, value]) =>
      [key, replies.reduce((sum, r, k) => sum + (r.losses[key] ?? 0) * share[k + 1], value * share[0])])) as StepLosses;
    return { grads, ctx: own.ctx, losses };
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.close()));
  }
}
