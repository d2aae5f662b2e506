import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
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

/** A batch's answer stored in `dir` by a first run: the teacher's own values, the answer file's name and bytes. */
async function storedAnswer(dir: string, seed: number) {
  const direct = await values(teacher().infer(batch(seed)));
  await values(new CachedTeacher(teacher(), dir).infer(batch(seed)));
  const [answer] = readdirSync(dir);
  return { direct, answer, bytes: readFileSync(join(dir, answer)) };
}

test('a lock held by a process that died is taken over; one held by a live process is waited for', async () => {
  const dir = join(root, 'stale');
  const { direct, answer, bytes } = await storedAnswer(dir, 4);
  rmSync(join(dir, answer));
  // a pid no process has (above Linux's highest)
  writeFileSync(join(dir, `${answer}.lock`), '4194305:dead');
  const late = new CachedTeacher(teacher(), dir);
  assert.deepEqual(await values(late.infer(batch(4))), direct);
  assert.equal(late.misses, 1);
  assert.deepEqual(readdirSync(dir), [answer], 'the answer, and no lock left');

  // this process is alive: its lock is waited for, and the answer it then writes is read
  rmSync(join(dir, answer));
  writeFileSync(join(dir, `${answer}.lock`), `${process.pid}:held`);
  const waiting = new CachedTeacher(teacher(), dir);
  let settled = false;
  const answered = values(waiting.infer(batch(4))).finally(() => (settled = true));
  await sleep(300);
  assert.equal(settled, false, 'a live holder\'s lock is not taken over');
  writeFileSync(join(dir, answer), bytes);
  rmSync(join(dir, `${answer}.lock`));
  assert.deepEqual(await answered, direct);
  assert.deepEqual([waiting.misses, waiting.hits], [0, 1]);
});

test('the cache never fails a run: an unreadable answer is computed again, an answer that cannot be written is returned; one warning names the file', async () => {
  const dir = join(root, 'faults');
  const { direct, answer, bytes: good } = await storedAnswer(dir, 5);
  for (const bad of [Buffer.from(new Int32Array([2, 64, 64, 24, 1]).buffer), Buffer.from(new Int32Array([2, 64]).buffer), Buffer.alloc(0)]) {
    writeFileSync(join(dir, answer), bad);
    const warnings: string[] = [];
    const reader = new CachedTeacher(teacher(), dir, { warn: (l) => warnings.push(l) });
    assert.deepEqual(await values(reader.infer(batch(5))), direct);
    assert.equal(reader.misses, 1);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], new RegExp(`${answer}: not a teacher answer .*computing it again`));
    assert.deepEqual(readFileSync(join(dir, answer)), good, 'the answer written again');
  }

  // the temporary file's path taken by a folder: the write fails
  rmSync(join(dir, answer));
  mkdirSync(join(dir, `${answer}.${process.pid}.tmp`));
  const warnings: string[] = [];
  const writer = new CachedTeacher(teacher(), dir, { warn: (l) => warnings.push(l) });
  assert.deepEqual(await values(writer.infer(batch(5))), direct);
  assert.deepEqual(await values(writer.infer(batch(5))), direct);
  assert.equal(writer.misses, 2);
  assert.equal(warnings.length, 1, 'one warning, not one per batch');
  assert.match(warnings[0], /cannot keep an answer in .*faults.*the run goes on/);
  assert.deepEqual(readdirSync(dir), [`${answer}.${process.pid}.tmp`], 'no answer and no lock left');
});

test('answers of another variant (a gRPC teacher\'s input dtype or output encoding) are other answers', async () => {
  const dir = join(root, 'variants');
  const fp32 = new CachedTeacher(teacher(), dir);
  const fp16 = new CachedTeacher(teacher(), dir, { variant: 'grpc fp16 fp16' });
  await values(fp32.infer(batch(6)));
  await values(fp16.infer(batch(6)));
  assert.deepEqual([fp32.misses, fp16.misses, fp16.hits], [1, 1, 0]);
  assert.equal(readdirSync(dir).length, 2);
});
