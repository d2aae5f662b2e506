// The queue, the store and the CheckpointSaved consumer together, with a scripted evaluation
// thread and the in-process bus: exactly-once decisions without processes or models.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createInProcessBus, type BusEvent, type EventBus } from '@kd/bus';
import { CheckpointSaved, type EvaluationDone, EvaluationState } from '@kd/proto';
import { createLogger } from '@kd/telemetry';
import { CheckpointConsumer } from './consumer.ts';
import { InvalidRequestError, ShuttingDownError } from './errors.ts';
import { EvaluationFailedError } from './evaluation_thread.ts';
import type { WorkerResult, WorkerTask } from './evaluation_protocol.ts';
import { Evaluator, type Publisher } from './evaluator.ts';
import { EvaluatorMetrics } from './metrics.ts';
import { EvaluationStore } from './store.ts';
import { checkpointEvaluationId, taskFromCheckpointSaved, Trigger } from './task.ts';

const root = mkdtempSync(join(tmpdir(), 'kd-evaluator-core-'));
const buses: EventBus[] = [];
after(async () => {
  // A stopped in-process consumer leaves its idle wait's timer (up to 60 s) behind; any event
  // wakes and clears it, so the test process can exit now (reported to @kd/bus).
  for (const bus of buses) await bus.publish('wake', 'training_progress', { jobId: 'wake', step: 0, totalSteps: 0, lr: 0, loss: {}, imagesPerSecond: 0, etaSeconds: 0, timeUnixSeconds: 0 });
  await Promise.all(buses.map((b) => b.close()));
  rmSync(root, { recursive: true, force: true });
});
const log = createLogger({ service: 'evaluator', level: 'silent' });
let n = 0;

/** A thread whose runs are scripted: `answer` decides each; `gate` holds them until opened. */
function scriptedThread(answer: (task: WorkerTask) => WorkerResult | Error = () => ({ meanAp: 0.5, perClassAp: { a: 0.5 }, numImages: 3 })) {
  const runs: WorkerTask[] = [];
  let open: () => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  let reject: ((e: Error) => void) | undefined;
  return {
    runs,
    hold() {
      gate = new Promise((r) => (open = r));
    },
    release() {
      open();
      gate = Promise.resolve();
    },
    thread: {
      run: async (task: WorkerTask): Promise<WorkerResult> => {
        runs.push(task);
        await Promise.race([gate, new Promise<void>((_, rej) => (reject = rej))]);
        const a = answer(task);
        if (a instanceof Error) throw a;
        return a;
      },
      close: async (reason?: Error) => reject?.(reason ?? new Error('closed')),
    },
  };
}

function setup(answer?: Parameters<typeof scriptedThread>[0]) {
  const id = ++n;
  const state = join(root, `state${id}`);
  const bus = createInProcessBus({ stream: `CORE_${id}`, log: () => {} });
  buses.push(bus);
  const t = scriptedThread(answer);
  const metrics = new EvaluatorMetrics({ defaultMetrics: false });
  const make = (publisher: Publisher = bus) => {
    const store = EvaluationStore.open(state);
    const evaluator = new Evaluator({ store, thread: t.thread, metrics, bus: publisher, log });
    const consumer = new CheckpointConsumer({ bus, evaluator, metrics, log, durable: 'evaluator' });
    return { store, evaluator, consumer };
  };
  const done: BusEvent[] = [];
  bus.subscribe('kd.*.evaluation_done', (e) => done.push(e));
  return { bus, t, metrics, make, done, state };
}

/** A checkpoint folder with a model.json recording `hash`. */
function checkpoint(name: string, hash: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ content_hash: hash }));
  return dir;
}

function saved(job: string, step: number, path: string, hash: string): CheckpointSaved {
  return CheckpointSaved.fromPartial({ jobId: job, step, path, contentHash: `sha256:${hash}`, sizeBytes: 1, timeUnixSeconds: 1 });
}

async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + 5000;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function publish(bus: EventBus, e: CheckpointSaved): Promise<void> {
  await bus.publish(e.jobId, 'checkpoint_saved', e);
}

test('a checkpoint announced twice is evaluated once and gets one EvaluationDone', async () => {
  const s = setup();
  const { store, consumer } = s.make();
  await consumer.start();
  const path = checkpoint('c1', 'ab'.repeat(32));
  await publish(s.bus, saved('job', 100, path, 'ab'.repeat(32)));
  await publish(s.bus, saved('job', 100, path, 'ab'.repeat(32)));
  const skipped = async () => (await s.metrics.redeliveriesSkipped.get()).values[0]?.value ?? 0;
  await until('two events handled', async () => s.done.length === 1 && (await skipped()) === 1);
  await consumer.stop();
  assert.equal(s.t.runs.length, 1);
  const e = s.done[0].payload as EvaluationDone;
  assert.equal(e.evaluationId, checkpointEvaluationId('job', 100, `sha256:${'ab'.repeat(32)}`));
  assert.equal(e.evaluationId, `job-step100-${'ab'.repeat(8)}`);
  assert.deepEqual([e.step, e.meanAp, e.checkpointPath, e.numImages], [100, 0.5, path, 3]);
  assert.equal(store.get(e.evaluationId)?.evaluationDonePublished, true);
  assert.equal(store.best('job')?.best_model, path);
});

test('a result stored before a crash but never published is published on redelivery, without evaluating again', async () => {
  const s = setup();
  const path = checkpoint('c2', 'cd'.repeat(32));
  const event = saved('job', 7, path, 'cd'.repeat(32));
  const task = taskFromCheckpointSaved('job', event);
  // the crash: the file was written, EvaluationDone never went out, the event was never acked
  const first = s.make({ publish: async () => Promise.reject(new Error('killed')), stats: { buffered: 0, dropped: 0 } });
  await assert.rejects(first.evaluator.submit(task), /killed/);
  assert.equal(first.store.get(task.evaluationId)?.evaluationDonePublished, false);
  assert.equal(s.t.runs.length, 1);

  const { store, consumer } = s.make();
  await consumer.start();
  await publish(s.bus, event);
  await until('EvaluationDone', () => s.done.length === 1);
  await consumer.stop();
  assert.equal(s.t.runs.length, 1, 'not evaluated again');
  assert.equal(store.get(task.evaluationId)?.evaluationDonePublished, true);
});

test('an event without a content hash is keyed by the hash in model.json', () => {
  const path = checkpoint('c3', 'ef'.repeat(32));
  const task = taskFromCheckpointSaved('job', CheckpointSaved.fromPartial({ jobId: 'job', step: 3, path }));
  assert.equal(task.evaluationId, `job-step3-${'ef'.repeat(8)}`);
  assert.equal(task.contentHash, `sha256:${'ef'.repeat(32)}`);
  assert.equal(task.trigger, Trigger.event);
});

test('unusable input: an event is stored FAILED and acked without EvaluationDone; a request is refused and nothing stored', async () => {
  const s = setup(() => new EvaluationFailedError({ kind: 'input', field: 'EvaluateRequest.checkpoint.path', message: 'x: corrupt' }));
  const { store, evaluator, consumer } = s.make();
  await consumer.start();
  const path = checkpoint('c4', '12'.repeat(32));
  const event = saved('job', 9, path, '12'.repeat(32));
  await publish(s.bus, event);
  const id = taskFromCheckpointSaved('job', event).evaluationId;
  await until('the FAILED result', () => store.get(id) !== undefined);
  await consumer.stop();
  assert.equal(store.get(id)?.report.state, EvaluationState.EVALUATION_STATE_FAILED);
  assert.equal(store.get(id)?.report.error, 'x: corrupt');
  assert.equal(s.done.length, 0);
  assert.equal(store.best('job'), undefined);

  const task = { ...taskFromCheckpointSaved('job', saved('job', 10, path, '34'.repeat(32))), trigger: Trigger.grpc, evaluationId: 'adhoc' };
  await assert.rejects(evaluator.submit(task), (e: Error) => e instanceof InvalidRequestError && /^EvaluateRequest\.checkpoint\.path: x: corrupt/.test(e.message));
  assert.equal(store.get('adhoc'), undefined);
  assert.equal(evaluator.report('adhoc'), undefined);
});

test('shutdown: the running evaluation finishes and is acked; a waiting event goes back unacked; a cut one is not stored', async () => {
  const s = setup();
  s.t.hold();
  const a = s.make();
  await a.consumer.start();
  const [p1, p2] = [checkpoint('c5', '56'.repeat(32)), checkpoint('c6', '78'.repeat(32))];
  await publish(s.bus, saved('job', 1, p1, '56'.repeat(32)));
  await publish(s.bus, saved('job', 2, p2, '78'.repeat(32)));
  await until('the first evaluation running', () => s.t.runs.length === 1);
  const grpcWaiting = a.evaluator.submit({ ...taskFromCheckpointSaved('job', saved('job', 3, p2, '9a'.repeat(32))), trigger: Trigger.grpc, evaluationId: 'rpc' });
  a.consumer.pause();
  a.evaluator.close();
  await assert.rejects(grpcWaiting, (e: Error) => e instanceof ShuttingDownError);
  s.t.release();
  await a.evaluator.idle();
  await a.consumer.settled();
  await new Promise((r) => setImmediate(r));
  await a.consumer.stop();
  assert.equal(s.done.length, 1);

  // the restarted evaluator gets the second event (never acked), and cuts it at shutdown
  s.t.hold();
  const b = s.make();
  await b.consumer.start();
  await until('the second evaluation running', () => s.t.runs.length === 2);
  await b.evaluator.abort();
  await b.consumer.stop();
  const second = taskFromCheckpointSaved('job', saved('job', 2, p2, '78'.repeat(32))).evaluationId;
  assert.equal(b.store.get(second), undefined, 'a cut evaluation stores nothing');

  s.t.release();
  const c = s.make();
  await c.consumer.start();
  await until('the second EvaluationDone', () => s.done.length === 2);
  await c.consumer.stop();
  assert.equal(s.t.runs.length, 3);
  assert.equal(c.store.size, 2);
});
