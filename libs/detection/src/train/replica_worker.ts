// One data-parallel replica: its own backend instance and copy of the model. Each step it
// reads the main thread's weights from shared memory, computes its shard's gradients and
// writes them back; the main thread averages them and applies the update.
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@kd/engine';
import { createYoloV3 } from '../model/yolov3.ts';
import { paramLayout, type ReplicaInit, type ReplicaReply, type ReplicaStep } from './replica_protocol.ts';
import { discardGradients, TrainStep } from './train_step.ts';

const init = workerData as ReplicaInit;
const port = parentPort!;
const reply = (message: ReplicaReply) => port.postMessage(message);

try {
  await initBackend(init.backend, () => {});
  const model = createYoloV3(init.config);
  const trainStep = new TrainStep(model, init.config);
  const params = model.store.trainable();
  const layout = paramLayout(params);
  const differs = layout.findIndex((slot, i) => slot.name !== init.layout[i]?.name || slot.size !== init.layout[i].size);
  if (differs >= 0 || layout.length !== init.layout.length) {
    throw new Error(`replica model differs from the main thread's at parameter ${layout[differs]?.name ?? init.layout[layout.length]?.name}`);
  }
  const weights = new Float32Array(init.weights);
  const grads = new Float32Array(init.grads);

  port.on('message', ({ shard }: ReplicaStep) => {
    try {
      tf.tidy(() => {
        for (const [i, p] of params.entries()) {
          p.variable.assign(tf.tensor(weights.subarray(layout[i].offset, layout[i].offset + layout[i].size), p.variable.shape));
        }
      });
      const computed = trainStep.gradients(shard);
      for (const [i, p] of params.entries()) {
        const g = computed.grads[p.variable.name];
        if (g) grads.set(g.dataSync(), layout[i].offset);
        else grads.fill(0, layout[i].offset, layout[i].offset + layout[i].size);
      }
      const stats = computed.ctx.statUpdates.map((u) => [(u.batchMean.dataSync() as Float32Array).slice(), (u.batchVariance.dataSync() as Float32Array).slice()] as [Float32Array, Float32Array]);
      discardGradients(computed);
      reply({ type: 'done', losses: computed.losses, stats, tensors: tf.memory().numTensors });
    } catch (error) {
      const e = error as Error;
      reply({ type: 'error', message: e.message, stack: e.stack });
    }
  });
  reply({ type: 'ready' });
} catch (error) {
  const e = error as Error;
  reply({ type: 'error', message: e.message, stack: e.stack });
}
