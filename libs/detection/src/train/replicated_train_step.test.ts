import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { parseConfig } from '@kd/config';
import { initBackend } from '@kd/engine';
import { applyStatUpdates } from '../model/layers.ts';
import { createYoloV3 } from '../model/yolov3.ts';
import { learningRate } from './lr_schedule.ts';
import { ReplicatedTrainStep } from './replicated_train_step.ts';
import { shardBatch } from './shard_batch.ts';
import { syntheticBatch } from './synthetic_batch.ts';
import { TrainStep } from './train_step.ts';

await initBackend('wasm');

const config = parseConfig({
  num_classes: 2, max_iters: 10, backbone: { name: 'ResNet', depth: 18, width: 0.125 }, yolo_head: { width: 0.0625 },
  optimizer: { base_lr: 0.01, warmup_steps: 0, boundaries: [] }, dataset: { dir: 'unused' },
});

const batch = (n: number, seed: number) => syntheticBatch(n, 64, 2, seed);

test('shardBatch splits images, boxes and flags contiguously, the remainder to the first shards', () => {
  const b = batch(8, 1);
  const shards = shardBatch(b, 3);
  assert.deepEqual(shards.map((s) => s.ids), [['img0', 'img1', 'img2'], ['img3', 'img4', 'img5'], ['img6', 'img7']]);
  assert.deepEqual([...shards[1].gtBox], [...b.gtBox.subarray(12, 24)]);
  assert.deepEqual([...shards[2].gtClass], [0, 1]);
  assert.equal(shards[2].images.length, 2 * 64 * 64 * 3);
  assert.equal(shards[2].images[0], b.images[6 * 64 * 64 * 3]);
  assert.throws(() => shardBatch(b, 9), /cannot split a batch of 8 images into 9 shards/);
});

test('2 replicas take the same steps as the two shards\' gradients averaged by shard size on one thread', async () => {
  const replicated = await ReplicatedTrainStep.start(new TrainStep(createYoloV3(config, 5), config), 2, 'wasm');
  const reference = new TrainStep(createYoloV3(config, 5), config);
  const tensors: Array<{ main: number; replica: number[] }> = [];
  try {
    for (let step = 0; step < 3; step++) {
      // step 1 has 3 images: shards of 2 and 1, which must count 2/3 and 1/3
      const b = batch(step === 1 ? 3 : 4, 10 + step);
      const mainBefore = tf.memory().numTensors;
      const got = await replicated.run(b, step);
      tensors.push({ main: tf.memory().numTensors - mainBefore, replica: replicated.replicaTensors });

      // the reference: each shard's batch-mean gradient on this thread, averaged by shard size
      const shards = shardBatch(b, 2);
      const [w0, w1] = shards.map((x) => x.ids.length / b.ids.length);
      const halves = shards.map((x) => reference.gradients(x));
      const mix = (p: tf.Tensor, q: tf.Tensor) => tf.add(tf.mul(p, w0), tf.mul(q, w1));
      const grads = tf.tidy(() => Object.fromEntries(Object.keys(halves[0].grads).map((k) => [k, mix(halves[0].grads[k], halves[1].grads[k])])));
      halves[0].ctx.statUpdates.forEach((u, j) => {
        const other = halves[1].ctx.statUpdates[j];
        const [mean, variance] = tf.tidy(() => [mix(u.batchMean, other.batchMean), mix(u.batchVariance, other.batchVariance)]);
        tf.dispose([u.batchMean, u.batchVariance]);
        Object.assign(u, { batchMean: mean, batchVariance: variance });
      });
      reference.optimizer.apply(reference.model.store.trainable(), grads, learningRate(step, config.optimizer));
      applyStatUpdates(halves[0].ctx);
      tf.dispose([grads, halves[0].grads, halves[1].grads]);
      for (const u of halves[1].ctx.statUpdates) tf.dispose([u.batchMean, u.batchVariance]);

      const loss = halves[0].losses.loss * w0 + halves[1].losses.loss * w1;
      assert.ok(Math.abs(got.loss - loss) < 1e-4 * loss, `step ${step}: loss ${got.loss} vs ${loss}`);
      for (const name of ['backbone.stem.weight', 'head.scale2.output.weight', 'head.scale0.output.bias', 'backbone.stem.bn.mean']) {
        const a = replicated.model.store.get(name).dataSync() as Float32Array;
        const r = reference.model.store.get(name).dataSync() as Float32Array;
        const worst = a.reduce((m, v, i) => Math.max(m, Math.abs(v - r[i])), 0);
        assert.ok(worst < 1e-5, `step ${step}: ${name} differs by ${worst}`);
      }
    }
    // nothing leaks: after the first step (which creates the velocities) the counts stay flat
    assert.deepEqual(tensors.slice(1).map((t) => t.main), [0, 0]);
    assert.deepEqual(tensors[2].replica, tensors[1].replica);
  } finally {
    await replicated.close();
  }
});

test('a replica\'s bad shard fails that step with the replica named; the next step works', async () => {
  const replicated = await ReplicatedTrainStep.start(new TrainStep(createYoloV3(config, 5), config), 2, 'wasm');
  try {
    const bad = batch(4, 3);
    bad.images = bad.images.subarray(0, 3 * 64 * 64 * 3 + 7); // the second shard's images are cut short
    await assert.rejects(replicated.run(bad, 0), /data-parallel replica 1 failed: .*/);
    const good = await replicated.run(batch(4, 4), 0);
    assert.ok(Number.isFinite(good.loss));
  } finally {
    await replicated.close();
  }
});
