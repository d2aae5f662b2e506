// The benchmark model's second data-parallel replica, as libs/detection's replica_worker for
// YOLOv3: its own backend instance and copy of the model; each step it reads the main
// thread's weights from shared memory, computes its shard's gradients, writes them back.
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend.ts';
import { createBenchmarkModel } from './benchmark_model.ts';
import { benchmarkLoss } from './benchmark_loss.ts';
import { packedOffsets, type BenchReplicaInit, type BenchReplicaReply, type BenchReplicaStep } from './bench_replica_protocol.ts';

const init = workerData as BenchReplicaInit;
const port = parentPort!;
const reply = (message: BenchReplicaReply) => port.postMessage(message);

try {
  await initBackend(init.backend, () => {});
  const model = createBenchmarkModel(1);
  const { offsets } = packedOffsets(model.variables.map((v) => v.size));
  const weights = new Float32Array(init.weights);
  const grads = new Float32Array(init.grads);
  port.on('message', ({ images, shape }: BenchReplicaStep) => {
    try {
      const loss = tf.tidy(() => {
        for (const [i, v] of model.variables.entries()) {
          v.assign(tf.tensor(weights.subarray(offsets[i], offsets[i] + v.size), v.shape));
        }
        const { value, grads: g } = tf.variableGrads(() => benchmarkLoss(model, tf.tensor4d(images, shape)), model.variables);
        for (const [i, v] of model.variables.entries()) grads.set(g[v.name].dataSync(), offsets[i]);
        return value.dataSync()[0];
      });
      reply({ type: 'done', loss, tensors: tf.memory().numTensors });
    } catch (error) {
      reply({ type: 'error', message: (error as Error).stack ?? String(error) });
    }
  });
  reply({ type: 'ready' });
} catch (error) {
  reply({ type: 'error', message: (error as Error).stack ?? String(error) });
}
