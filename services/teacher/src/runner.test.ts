import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { parseConfig } from '@kd/config';
import { createYoloV3, inferenceContext } from '@kd/detection';
import { initBackend } from '@kd/engine';
import { runMerged } from './runner.ts';

await initBackend('wasm', () => {});

test('a merged run gives each request the heads of its own images, and leaks no tensor', async () => {
  const model = createYoloV3(parseConfig({
    num_classes: 2, max_iters: 1, backbone: { name: 'MobileNetV1', width: 0.25 }, yolo_head: { width: 0.125 }, dataset: { dir: 'unused' },
  }), 3);
  const batch = (n: number, seed: number) => ({
    values: tf.tidy(() => tf.randomNormal([n, 32, 64, 3], 0, 1, 'float32', seed).dataSync() as Float32Array), n, height: 32, width: 64,
  });
  const parts = [batch(2, 1), batch(1, 2), batch(3, 3)];
  const before = tf.memory().numTensors;
  const merged = await runMerged(model, parts);
  assert.equal(tf.memory().numTensors, before, 'inputs and head tensors are disposed');
  assert.equal(merged.length, 3);
  for (const [i, p] of parts.entries()) {
    const alone = tf.tidy(() => model.forward(tf.tensor4d(p.values, [p.n, 32, 64, 3]), inferenceContext()).map((t) => t.dataSync() as Float32Array));
    merged[i].forEach((h, s) => {
      assert.deepEqual(h.shape, [p.n, 32 / [32, 16, 8][s], 64 / [32, 16, 8][s], 21]);
      const worst = h.values.reduce((m, v, k) => Math.max(m, Math.abs(v - alone[s][k])), 0);
      assert.ok(worst < 1e-4, `request ${i} scale ${s}: off by ${worst}`);
    });
  }
  await assert.rejects(runMerged(model, [batch(1, 4), { ...batch(1, 5), height: 64, values: new Float32Array(64 * 64 * 3) }]), /mixes 32x64 and 64x64/);
  model.store.dispose();
});
