import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { DynamicBatcher, type BatchReport, type BatcherOptions } from './batcher.ts';
import { TeacherError } from './errors.ts';

/** A batcher whose run records its inputs and answers input * 10; `gate` holds runs until opened. */
function recording(options: BatcherOptions, gated = false) {
  const runs: number[][] = [];
  const reports: BatchReport[] = [];
  let open: () => void = () => {};
  let gate = gated ? new Promise<void>((r) => (open = r)) : Promise.resolve();
  const batcher = new DynamicBatcher<number, number>(async (inputs) => {
    runs.push(inputs);
    await gate;
    return inputs.map((x) => x * 10);
  }, options);
  batcher.onBatch = (r) => reports.push(r);
  return {
    batcher, runs, reports,
    release() {
      open();
      gate = Promise.resolve();
    },
  };
}

const one = (key = 'a') => ({ images: 1, key });

function hasCode(code: status) {
  return (e: unknown) => e instanceof TeacherError && e.code === code;
}

test('concurrent requests merge into one run within the delay; each gets its own result back', async () => {
  const { batcher, runs, reports } = recording({ maxBatch: 8, maxDelayMs: 30, maxQueue: 16 });
  const t = performance.now();
  const results = await Promise.all([1, 2, 3].map((x) => batcher.submit(one(), () => x)));
  assert.deepEqual(runs, [[1, 2, 3]]);
  assert.deepEqual(results.map((r) => r.output), [10, 20, 30]);
  assert.ok(results.every((r) => r.batchImages === 3));
  assert.ok(performance.now() - t >= 25, 'a batch that is not full waits for the delay');
  assert.ok(results[0].queueSeconds >= 0.02 && results[0].queueSeconds < 1, `queue ${results[0].queueSeconds}`);
  assert.deepEqual(reports.map((r) => [r.images, r.requests]), [[3, 3]]);
});

test('a full batch runs at once; more than max-batch images split into several runs, in order', async () => {
  const { batcher, runs } = recording({ maxBatch: 2, maxDelayMs: 60_000, maxQueue: 16 });
  const full = await Promise.all([batcher.submit({ images: 2, key: 'a' }, () => 7)]);
  assert.equal(full[0].output, 70, 'did not wait a minute for a full batch');
  runs.length = 0;
  const five = Array.from({ length: 4 }, (_, i) => batcher.submit(one(), () => i));
  const last = batcher.submit(one(), () => 4);
  await new Promise((r) => setImmediate(r)); // all five prepared and queued
  batcher.close(); // flush the odd one out instead of waiting for the delay
  const results = await Promise.all([...five, last]);
  assert.deepEqual(runs, [[0, 1], [2, 3], [4]]);
  assert.deepEqual(results.map((r) => r.output), [0, 10, 20, 30, 40]);
  assert.deepEqual(results.map((r) => r.batchImages), [2, 2, 2, 2, 1]);
});

test('requests of different sizes never share a batch', async () => {
  const { batcher, runs } = recording({ maxBatch: 8, maxDelayMs: 5, maxQueue: 16 });
  await Promise.all([
    batcher.submit(one('64x64'), () => 1), batcher.submit(one('96x64'), () => 2), batcher.submit(one('64x64'), () => 3),
  ]);
  assert.deepEqual(runs, [[1, 3], [2]]);
});

test('a full queue answers RESOURCE_EXHAUSTED at once, and frees up as batches run', async () => {
  const b = recording({ maxBatch: 2, maxDelayMs: 0, maxQueue: 3 }, true);
  const running = b.batcher.submit({ images: 2, key: 'a' }, () => 1); // starts, then blocks in run
  await new Promise((r) => setImmediate(r));
  assert.equal(b.runs.length, 1);
  const queued = [b.batcher.submit({ images: 2, key: 'a' }, () => 2), b.batcher.submit(one(), () => 3)];
  assert.equal(b.batcher.depth, 3);
  await assert.rejects(b.batcher.submit(one(), () => 4), (e: Error) => hasCode(status.RESOURCE_EXHAUSTED)(e) && /3 images waiting/.test(e.message));
  b.release();
  assert.deepEqual((await Promise.all([running, ...queued])).map((r) => r.output), [10, 20, 30]);
  assert.equal(b.batcher.depth, 0);
  assert.equal((await b.batcher.submit(one(), () => 5)).output, 50, 'room again');
});

test('a failed prepare frees its place and fails only its own request', async () => {
  const { batcher, runs } = recording({ maxBatch: 4, maxDelayMs: 5, maxQueue: 4 });
  const bad = batcher.submit({ images: 4, key: 'a' }, () => Promise.reject(new RangeError('corrupt')));
  await assert.rejects(bad, /corrupt/);
  assert.equal(batcher.depth, 0);
  assert.equal((await batcher.submit(one(), () => 1)).output, 10);
  assert.deepEqual(runs, [[1]]);
});

test('cancelled requests and expired deadlines are dropped before they run', async () => {
  const b = recording({ maxBatch: 1, maxDelayMs: 0, maxQueue: 8 }, true);
  const first = b.batcher.submit(one(), () => 1); // occupies the network
  await new Promise((r) => setImmediate(r));
  let cancelled = false;
  const gone = b.batcher.submit({ ...one(), isCancelled: () => cancelled }, () => 2);
  const late = b.batcher.submit({ ...one(), deadline: Date.now() + 20 }, () => 3);
  const fine = b.batcher.submit({ ...one(), deadline: Date.now() + 60_000 }, () => 4);
  cancelled = true;
  await new Promise((r) => setTimeout(r, 40));
  b.release();
  await assert.rejects(gone, hasCode(status.CANCELLED));
  await assert.rejects(late, hasCode(status.DEADLINE_EXCEEDED));
  assert.deepEqual((await Promise.all([first, fine])).map((r) => r.output), [10, 40]);
  assert.deepEqual(b.runs, [[1], [4]], 'dropped requests never reached the network');
  assert.equal(b.batcher.depth, 0);
});

test('a failing run fails every request of its batch; close() refuses new work; idle() waits', async () => {
  const batcher = new DynamicBatcher<number, number>(async () => {
    throw new Error('out of memory');
  }, { maxBatch: 4, maxDelayMs: 1, maxQueue: 8 });
  const both = [batcher.submit(one(), () => 1), batcher.submit(one(), () => 2)];
  for (const p of both) await assert.rejects(p, /out of memory/);
  await batcher.idle();
  batcher.close();
  await assert.rejects(batcher.submit(one(), () => 3), hasCode(status.UNAVAILABLE));
  assert.throws(() => new DynamicBatcher(async () => [], { maxBatch: 4, maxDelayMs: 1, maxQueue: 2 }), /maxQueue >= maxBatch/);
});
