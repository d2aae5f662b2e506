// Exactly once across a crash: CheckpointSaved events for real tiny checkpoints go through the
// shared NATS to the evaluator, which is SIGKILLed in the middle of an evaluation and started
// again on the same state and durable consumer. Every checkpoint must end with one result
// file and one EvaluationDone, the re-announced one must be skipped, and GetReport / best.json
// must tell the latest and the best.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { connect } from 'nats';
import { connectBus, type BusEvent, type EventBus } from '@kd/bus';
import { EVALUATOR_METRIC_NAMES } from '@kd/evaluator-service/metrics';
import { CheckpointSaved, type EvaluationDone, EvaluationState } from '@kd/proto';
import {
  checkpointHash, client, deleteStreams, fetchMetrics, getReport, makeDataset, natsReachable, SHARED_NATS_URL, startEvaluatorProcess,
  studentCopy, tempDir, trainTiny, uniqueId, waitFor, type EvaluatorProcess,
} from './helpers.ts';

const id = uniqueId();
const stream = `KD_EVALTEST_${id}`;
const prefix = `evaltest_${id}`;
const durable = `evaluator_${id}`;
const job = `job_${id}`;
const processes: EvaluatorProcess[] = [];
let bus: EventBus | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;

after(async () => {
  for (const p of processes) p.kill('SIGKILL');
  await bus?.close();
  await deleteStreams([stream]);
  tmp?.cleanup();
});

/** Events the durable consumer has not yet delivered or not yet seen acked. */
async function unfinished(): Promise<number> {
  const nc = await connect({ servers: SHARED_NATS_URL, timeout: 2000 });
  try {
    const info = await (await nc.jetstreamManager()).consumers.info(stream, durable);
    return info.num_pending + info.num_ack_pending;
  } finally {
    await nc.close();
  }
}

test('each CheckpointSaved is evaluated exactly once, across a SIGKILL mid-evaluation and a restart', async () => {
  assert.ok(await natsReachable(), `the shared NATS at ${SHARED_NATS_URL} must be up (this test never skips)`);
  tmp = tempDir('kd-evaluator-once-');
  const big = join(tmp.dir, 'big');
  const small = join(tmp.dir, 'small');
  const state = join(tmp.dir, 'state');
  // tiny checkpoints on 300 test images: an evaluation takes over a second, time to kill it
  await Promise.all([makeDataset(big, 300), makeDataset(small, 4, 128)]);
  await trainTiny(big, join(tmp.dir, 'run'), 3, 1);
  const student = join(tmp.dir, 'student');
  studentCopy(student, small, 128);
  const checkpoints = [
    { step: 1, path: join(tmp.dir, 'run', '1') },
    { step: 2, path: student }, // the best
    { step: 3, path: join(tmp.dir, 'run', 'model_final') }, // the latest; killed while evaluating it
  ].map((c) => ({ ...c, hash: checkpointHash(c.path) }));
  const idOf = (c: (typeof checkpoints)[number]) => `${job}-step${c.step}-${c.hash.slice('sha256:'.length, 'sha256:'.length + 16)}`;

  bus = await connectBus({ url: SHARED_NATS_URL, stream, subjectPrefix: prefix, log: () => {}, closeTimeoutMs: 1000 });
  const done: BusEvent[] = [];
  bus.subscribe(`kd.${job}.evaluation_done`, (e) => done.push(e));
  const args = ['--state', state, '--nats', SHARED_NATS_URL, '--stream', stream, '--subject-prefix', prefix, '--durable', durable, '--ack-wait-ms', '1500'];
  const announce = (c: (typeof checkpoints)[number]) => bus!.publish(job, 'checkpoint_saved', CheckpointSaved.fromPartial({
    jobId: job, step: c.step, path: c.path, contentHash: c.hash, sizeBytes: 1, timeUnixSeconds: Date.now() / 1000,
  }));

  const first = await startEvaluatorProcess(args);
  processes.push(first);
  let killedAt = -1;
  first.onLog((l) => {
    if (l.msg === 'evaluation started' && l.evaluationId === idOf(checkpoints[2])) {
      first.kill('SIGKILL'); // a crash in the middle of the evaluation
      killedAt = performance.now();
    }
  });
  for (const c of checkpoints) await announce(c);
  assert.equal(await first.exited, null, 'killed by the signal');
  assert.ok(killedAt > 0);
  const files = () => readdirSync(join(state, 'evaluations')).filter((n) => n.endsWith('.json')).sort();
  assert.deepEqual(files(), [idOf(checkpoints[0]), idOf(checkpoints[1])].map((n) => `${n}.json`).sort(), 'killed before the third result was stored');
  assert.ok(!first.logs().some((l) => l.msg === 'evaluation finished' && l.evaluationId === idOf(checkpoints[2])));
  await announce(checkpoints[0]); // announced again (a retried publish): must be skipped

  const second = await startEvaluatorProcess(args);
  processes.push(second);
  await waitFor('three EvaluationDone', () => done.length >= 3, 20_000);
  await waitFor('the re-announced checkpoint skipped', () => second.logs().some((l) => l.msg === 'checkpoint already evaluated: acked without work'));
  // every event acked: nothing more can come
  const end = Date.now() + 10_000;
  while ((await unfinished()) > 0) {
    assert.ok(Date.now() < end, 'events still unacked after 10 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 200)); // a stray duplicate would arrive by now

  const events = done.map((e) => e.payload as EvaluationDone);
  assert.deepEqual(events.map((e) => e.evaluationId).sort(), checkpoints.map(idOf).sort(), 'one EvaluationDone per checkpoint');
  assert.deepEqual(files(), checkpoints.map((c) => `${idOf(c)}.json`).sort(), 'one result file per checkpoint');
  for (const c of checkpoints) {
    const stored = JSON.parse(readFileSync(join(state, 'evaluations', `${idOf(c)}.json`), 'utf8'));
    assert.equal(stored.evaluation_done_published, true);
    assert.equal(stored.content_hash, c.hash);
    assert.equal(stored.trigger, 'event');
    const e = events.find((x) => x.evaluationId === idOf(c))!;
    assert.equal(e.step, c.step);
    assert.equal(e.checkpointPath, c.path);
  }
  assert.equal(second.logs().filter((l) => l.msg === 'evaluation started').length, 1, 'after the restart only the cut evaluation ran');

  const c = client(second.address);
  try {
    const latest = await getReport(c, { jobId: job });
    assert.equal(latest.evaluationId, idOf(checkpoints[2]));
    assert.equal(latest.step, 3);
    assert.equal(latest.state, EvaluationState.EVALUATION_STATE_DONE);
    const best = JSON.parse(readFileSync(join(state, 'jobs', job, 'best.json'), 'utf8'));
    const studentEvent = events.find((e) => e.evaluationId === idOf(checkpoints[1]))!;
    assert.ok(studentEvent.meanAp > 0 && studentEvent.meanAp > latest.meanAp, `student ${studentEvent.meanAp} vs tiny ${latest.meanAp}`);
    assert.deepEqual([best.evaluation_id, best.best_model, best.step, best.mean_ap], [idOf(checkpoints[1]), student, 2, studentEvent.meanAp]);
  } finally {
    c.close();
  }
  const m = await fetchMetrics(second.metricsPort);
  assert.ok(m.get(EVALUATOR_METRIC_NAMES.redeliveriesSkipped)![0].value >= 1);
  assert.equal(m.get(EVALUATOR_METRIC_NAMES.bestMap)!.find((s) => s.labels.job_id === job)?.value, events.find((e) => e.evaluationId === idOf(checkpoints[1]))!.meanAp);
  assert.equal(m.get(EVALUATOR_METRIC_NAMES.evaluations)!.find((s) => s.labels.source === 'event' && s.labels.state === 'done')?.value, 1);

  second.kill('SIGTERM');
  assert.equal(await second.exited, 0);
  assert.ok(!readdirSync(join(state, 'evaluations')).some((n) => n.includes('.tmp-')), 'no temp files left');
});
