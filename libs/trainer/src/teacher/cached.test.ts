import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { parseConfig } from '@kd/config';
import { createYoloV3 } from '@kd/detection';
import { describeTeacher } from '@kd/distill';
import { initBackend } from '@kd/engine';
import { CachedTeacher } from './cached.ts';
import { InProcessTeacher } from './in_process.ts';
import type { ImageBatch } from './source.ts';

await initBackend('wasm');

const root = mkdtempSync(join(tmpdir(), 'kd-teacher-cache-'));
after(() => rmSync(root, { recursive: true, force: true }));

// a real (tiny, random) teacher: what the cache stores must be what it answers
const config = parseConfig({ num_classes: 3, max_iters: 1, backbone: { name: 'MobileNetV1', width: 0.25 }, yolo_head: { width: 0.125 }, dataset: { dir: 'unused' } });
const model = createYoloV3(config, 5);
const { spec } = describeTeacher({ modelName: 'tiny', contentHash: 'ab'.repeat(32), head: model.spec, classNames: ['a', 'b', 'c'], inputSize: 64 });
const teacher = () => new InProcessTeacher(model, spec);
const batch = (seed: number): ImageBatch => ({ images: tf.randomNormal([2, 64, 64, 3], 0, 1, 'float32', seed).dataSync() as Float32Array, shape: [2, 64, 64, 3] });
const values = async (outputs: Promise<tf.Tensor4D[]>) => {
  const ts = await outputs;
  const v = ts.map((t) => ({ shape: t.shape, data: Array.from(t.dataSync()) }));
  tf.dispose(ts);
  return v;
};

test('the first run computes an answer, the next reads it: the teacher\'s own floats, bit for bit; another batch is another answer', async () => {
  const dir = join(root, 'shared');
  const direct = await values(teacher().infer(batch(1)));
  const first = new CachedTeacher(teacher(), dir);
  const second = new CachedTeacher(teacher(), dir); // another run (process) on the same folder
  assert.deepEqual(await values(first.infer(batch(1))), direct);
  assert.deepEqual(await values(second.infer(batch(1))), direct);
  assert.deepEqual([first.misses, first.hits, second.misses, second.hits], [1, 0, 0, 1]);
  const other = await values(second.infer(batch(2)));
  assert.notDeepEqual(other, direct);
  assert.equal(second.misses, 1);
  assert.deepEqual(readdirSync(dir).sort().map((f) => f.slice(-4)), ['.f32', '.f32'], 'two answers and no lock or temp file left');
});

test('two runs asking for the same batch at once: one computes, the other waits for its answer', async () => {
  const dir = join(root, 'concurrent');
  const a = new CachedTeacher(teacher(), dir);
  const b = new CachedTeacher(teacher(), dir);
  const [va, vb] = await Promise.all([values(a.infer(batch(3))), values(b.infer(batch(3)))]);
  assert.deepEqual(va, vb);
  assert.equal(a.misses + b.misses, 1);
  assert.equal(a.hits + b.hits, 1);
});

test('a lock left by a run that died is taken over once stale; a file that is not an answer is an error naming it', async () => {
  const dir = join(root, 'stale');
  const probe = new CachedTeacher(teacher(), dir);
  await values(probe.infer(batch(4)));
  const [answer] = readdirSync(dir);
  rmSync(join(dir, answer));
  writeFileSync(join(dir, `${answer}.lock`), '');
  const old = new Date(Date.now() - 10 * 60_000);
  utimesSync(join(dir, `${answer}.lock`), old, old);
  const late = new CachedTeacher(teacher(), dir);
  assert.deepEqual(await values(late.infer(batch(4))), await values(teacher().infer(batch(4))));
  assert.equal(late.misses, 1);

  writeFileSync(join(dir, answer), Buffer.from(new Int32Array([2, 64, 64, 24, 1]).buffer));
  await assert.rejects(late.infer(batch(4)), new RegExp(`${answer}: not a teacher answer`));
});
