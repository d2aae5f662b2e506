import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { parseConfig } from '@kd/config';
import { initBackend } from '@kd/engine';
import { inferenceContext } from '../model/layers.ts';
import { createYoloV3 } from '../model/yolov3.ts';
import { MomentumOptimizer } from '../train/momentum.ts';
import { CheckpointError, loadCheckpoint, readCheckpointConfig, saveCheckpoint } from './checkpoint.ts';

await initBackend('cpu');

// every temp folder of this file, removed when it ends
const made: string[] = [];
after(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'kd-ckpt-'));
  made.push(dir);
  return dir;
};

const config = (overrides: Record<string, unknown> = {}) => parseConfig({
  num_classes: 3, max_iters: 10, backbone: { name: 'MobileNetV1', width: 0.25 }, yolo_head: { width: 0.125 },
  dataset: { dir: 'unused' }, ...overrides,
});

test('a checkpoint round-trips weights, BN statistics and optimizer state; the config comes back', async () => {
  const dir = join(tempDir(), 'model_final');
  const a = createYoloV3(config(), 1);
  a.store.get('backbone.stem.bn.mean').assign(tf.fill([8], 0.5));
  const optimizer = new MomentumOptimizer(0.9, 5e-4);
  const grads = Object.fromEntries(a.store.trainable().map((p) => [p.variable.name, tf.onesLike(p.variable)]));
  optimizer.apply(a.store.trainable(), grads, 0.01);
  const hash = await saveCheckpoint(dir, a.store, config(), 7, { optimizer, extra: { best_map: 0.5 } });
  assert.deepEqual(readdirSync(dir).sort(), ['model.json', 'optimizer.bin', 'weights.bin']);

  const b = createYoloV3(config(), 2); // different initial weights
  const restored = new MomentumOptimizer(0.9, 5e-4);
  const loaded = loadCheckpoint(dir, b.store, config(), restored);
  assert.equal(loaded.step, 7);
  assert.equal(loaded.contentHash, hash);
  assert.deepEqual(loaded.extra, { best_map: 0.5 });
  assert.equal(readCheckpointConfig(dir).backbone.width, 0.25);
  const x = tf.randomNormal([1, 64, 64, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const [ya, yb] = [a, b].map((m) => tf.tidy(() => m.forward(x, inferenceContext())[2].dataSync()));
  assert.deepEqual(yb, ya);
  const name = 'head.scale0.output.weight';
  assert.deepEqual(restored.velocities.get(name)!.dataSync(), optimizer.velocities.get(name)!.dataSync());
  a.store.dispose(); b.store.dispose(); optimizer.dispose(); restored.dispose(); x.dispose();
  tf.dispose(Object.values(grads));
});

test('loading into another model definition or a corrupt file fails naming the cause', async () => {
  const dir = join(tempDir(), 'ckpt');
  const a = createYoloV3(config(), 1);
  await saveCheckpoint(dir, a.store, config(), 1);
  const other = createYoloV3(config({ backbone: { name: 'MobileNetV1', width: 0.5 } }), 1);
  assert.throws(() => loadCheckpoint(dir, other.store, config({ backbone: { name: 'MobileNetV1', width: 0.5 } })),
    (e: Error) => e instanceof CheckpointError && /backbone\.width: 0\.25 in the checkpoint, 0\.5 in the config/.test(e.message));
  const fewer = config({ num_classes: 2 });
  assert.throws(() => loadCheckpoint(dir, createYoloV3(fewer).store, fewer), /num_classes: 3 in the checkpoint, 2 in the config/);
  writeFileSync(join(dir, 'weights.bin'), 'garbage');
  assert.throws(() => loadCheckpoint(dir, a.store, config()), /weights\.bin: content hash .* does not match model\.json/);
  assert.throws(() => loadCheckpoint(join(dir, 'nope'), a.store, config()), /not a checkpoint \(no model\.json\)/);
  a.store.dispose(); other.store.dispose();
});

test('a float16 checkpoint is half the size and loads back within float16 precision', async () => {
  const root = tempDir();
  const a = createYoloV3(config(), 1);
  await saveCheckpoint(join(root, 'fp32'), a.store, config(), 3);
  await saveCheckpoint(join(root, 'fp16'), a.store, config(), 3, { weightsDtype: 'float16' });
  const size = (dir: string) => readFileSync(join(root, dir, 'weights.bin')).length;
  assert.equal(size('fp16') * 2, size('fp32'));
  const b = createYoloV3(config(), 2);
  loadCheckpoint(join(root, 'fp16'), b.store, config());
  for (const name of ['backbone.stem.weight', 'head.scale2.output.weight']) {
    const [wa, wb] = [a, b].map((m) => m.store.get(name).dataSync() as Float32Array);
    const maxErr = wa.reduce((m, v, i) => Math.max(m, Math.abs(v - wb[i]) / Math.max(Math.abs(v), 1e-3)), 0);
    assert.ok(maxErr < 1e-3, `${name}: relative error ${maxErr}`);
  }
  a.store.dispose(); b.store.dispose();
});

test('a truncated or missing file of a checkpoint is a CheckpointError naming it, never a silently different model', async () => {
  const dir = join(tempDir(), 'step_5');
  const model = createYoloV3(config(), 1);
  const optimizer = new MomentumOptimizer(0.9, 5e-4);
  optimizer.apply(model.store.trainable(), Object.fromEntries(model.store.trainable().map((p) => [p.variable.name, tf.onesLike(p.variable)])), 0.01);
  await saveCheckpoint(dir, model.store, config(), 5, { optimizer });
  const state = readFileSync(join(dir, 'optimizer.bin'));
  writeFileSync(join(dir, 'optimizer.bin'), state.subarray(0, state.length - 8));
  assert.throws(() => loadCheckpoint(dir, createYoloV3(config(), 2).store, config(), new MomentumOptimizer(0.9, 5e-4)),
    (e: Error) => e instanceof CheckpointError && e.message.includes(join(dir, 'optimizer.bin')) && /does not match model\.json/.test(e.message));
  rmSync(join(dir, 'weights.bin'));
  assert.throws(() => loadCheckpoint(dir, createYoloV3(config(), 2).store, config()),
    (e: Error) => e instanceof CheckpointError && e.message.includes(dir) && /no weights\.bin \(model\.json lists it\)/.test(e.message));
});
