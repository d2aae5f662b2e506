// The EventBus contract, run against both implementations: the in-process bus and NATS
// JetStream (the shared server; each test its own stream and subject prefix, deleted after).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { connect } from 'nats';
import { CheckpointSaved, InvalidSubjectError, type EventPayload } from '@kd/proto';
import { BusConfigError, connectBus, connectNatsBus, createInProcessBus, subjectMatches, type BusEvent, type BusOptions, type EventBus } from './index.ts';
import { deleteStreams, delay, sweepStaleTestStreams, natsReachable, SHARED_NATS_URL, skipUnless, uniqueId, waitFor } from './test_support.ts';

const natsUp = await natsReachable(SHARED_NATS_URL);

interface Impl {
  name: string;
  skip: string | false;
  /** A bus on the test's own stream `id`; buses made with the same id share it. */
  make(id: string, o?: Omit<BusOptions, 'url' | 'stream' | 'subjectPrefix'>): Promise<EventBus>;
}

const streams: string[] = [];
after(async () => {
  if (!natsUp) return;
  await deleteStreams(SHARED_NATS_URL, streams);
  await sweepStaleTestStreams(SHARED_NATS_URL);
});

const impls: Impl[] = [
  { name: 'in-process bus', skip: false, make: async (id, o) => createInProcessBus({ stream: `T_${id}`, log: () => {}, ...o }) },
  {
    name: 'NATS JetStream bus',
    skip: skipUnless(natsUp, `shared NATS at ${SHARED_NATS_URL}`),
    make: async (id, o) => {
      const stream = `KD_TEST_${id}`;
      if (!streams.includes(stream)) streams.push(stream);
      return connectNatsBus(SHARED_NATS_URL, { stream, subjectPrefix: `kdtest_${id}`, log: () => {}, closeTimeoutMs: 2000, ...o });
    },
  },
];

function checkpoint(job: string, step: number): EventPayload<'checkpoint_saved'> {
  return CheckpointSaved.fromPartial({ jobId: job, step, path: `runs/${job}/model_${step}`, contentHash: `sha256:${'ab'.repeat(32)}`, sizeBytes: 1234 + step, timeUnixSeconds: 1_700_000_000.5 });
}

const steps = (events: BusEvent[]) => events.map((e) => (e.payload as { step: number }).step);

for (const impl of impls) {
  describe(impl.name, { skip: impl.skip }, () => {
    const open: EventBus[] = [];
    after(() => Promise.all(open.map((b) => b.close())));
    const make = async (id: string, o?: Omit<BusOptions, 'url' | 'stream' | 'subjectPrefix'>) => {
      const bus = await impl.make(id, o);
      open.push(bus);
      return bus;
    };

    test('publish/subscribe round trip carries the proto payloads, by subject pattern', async () => {
      const id = uniqueId();
      const job = `job_${id}`;
      const bus = await make(id);
      const mine: BusEvent[] = [];
      const checkpoints: BusEvent[] = [];
      const others: BusEvent[] = [];
      bus.subscribe(`kd.${job}.>`, (e) => mine.push(e));
      bus.subscribe('kd.*.checkpoint_saved', (e) => checkpoints.push(e));
      bus.subscribe(`kd.other_${id}.>`, (e) => others.push(e));
      const progress: EventPayload<'training_progress'> = {
        jobId: job, step: 120, totalSteps: 1000, lr: 0.001, loss: { total: 1.5, distill: 0.25 },
        imagesPerSecond: 42.5, etaSeconds: 300, timeUnixSeconds: 1_700_000_000.25,
      };
      await bus.publish(job, 'training_progress', progress);
      await bus.publish(job, 'checkpoint_saved', checkpoint(job, 500));
      await waitFor('two events', () => mine.length === 2 && checkpoints.length === 1);
      assert.deepEqual(mine.map((e) => [e.subject, e.job, e.event]), [
        [`kd.${job}.training_progress`, job, 'training_progress'],
        [`kd.${job}.checkpoint_saved`, job, 'checkpoint_saved'],
      ]);
      assert.deepEqual(mine[0].payload, progress);
      assert.deepEqual(mine[1].payload, checkpoint(job, 500));
      assert.equal(mine[0].seq, undefined, 'live events carry no stream sequence');
      assert.equal(checkpoints[0].subject, `kd.${job}.checkpoint_saved`);
      await delay(100);
      assert.equal(others.length, 0);
      assert.deepEqual(bus.stats, { dropped: 0, buffered: 0 });
    });

    test('a durable consumer gets events published before it existed, in order, and a throw redelivers', async () => {
      const id = uniqueId();
      const job = `job_${id}`;
      const bus = await make(id);
      for (const step of [1, 2, 3]) await bus.publish(job, 'checkpoint_saved', checkpoint(job, step));
      await bus.publish(job, 'training_progress', { jobId: job, step: 3, totalSteps: 9, lr: 0.1, loss: {}, imagesPerSecond: 1, etaSeconds: 1, timeUnixSeconds: 1 });
      const seen: BusEvent[] = [];
      const done = new Set<number>();
      let thrown = false;
      const c = await bus.consume('evaluator', `kd.${job}.checkpoint_saved`, async (e) => {
        seen.push(e);
        const step = (e.payload as { step: number }).step;
        if (step === 2 && !thrown) {
          thrown = true;
          throw new Error('evaluation failed once');
        }
        done.add(step);
      });
      await waitFor('three evaluations', () => done.size === 3);
      // 2 failed, 3 went ahead, 2 came back after the redelivery delay
      assert.deepEqual(steps(seen), [1, 2, 3, 2]);
      assert.ok(seen.every((e) => e.event === 'checkpoint_saved' && typeof e.seq === 'number'));
      assert.ok(seen[0].seq! < seen[1].seq! && seen[1].seq! < seen[2].seq! && seen[3].seq === seen[1].seq);
      await c.stop();
    });

    test('a second bus with the same durable name gets what the first did not ack, and nothing it acked', async () => {
      const id = uniqueId();
      const job = `job_${id}`;
      const first = await make(id);
      for (const step of [1, 2, 3]) await first.publish(job, 'checkpoint_saved', checkpoint(job, step));
      const firstSeen: number[] = [];
      const c1 = await first.consume('evaluator', `kd.${job}.>`, async (e) => {
        const step = (e.payload as { step: number }).step;
        firstSeen.push(step);
        if (step === 2) await new Promise(() => {}); // stuck when it stops
      });
      await waitFor('the first consumer to hold step 2', () => firstSeen.includes(2));
      await c1.stop();
      await first.close();
      const second = await make(id);
      const secondSeen: number[] = [];
      const c2 = await second.consume('evaluator', `kd.${job}.>`, async (e) => void secondSeen.push((e.payload as { step: number }).step));
      await waitFor('steps 2 and 3 on the second bus', () => secondSeen.length >= 2);
      await delay(300);
      assert.deepEqual(firstSeen, [1, 2]);
      assert.deepEqual(secondSeen, [2, 3]);
      await c2.stop();
      // all acked now: a third consumer under the name has nothing left
      const thirdSeen: number[] = [];
      const c3 = await second.consume('evaluator', `kd.${job}.>`, async (e) => void thirdSeen.push((e.payload as { step: number }).step));
      await second.publish(job, 'checkpoint_saved', checkpoint(job, 4));
      await waitFor('step 4', () => thirdSeen.length > 0);
      await delay(200);
      assert.deepEqual(thirdSeen, [4]);
      await c3.stop();
    });

    test('bad input: a job id that is no subject token, a durable redefined on another subject', async () => {
      const id = uniqueId();
      const bus = await make(id);
      await assert.rejects(bus.publish('a.b', 'checkpoint_saved', checkpoint('a', 1)), InvalidSubjectError);
      assert.throws(() => bus.subscribe('kd..x', () => {}), BusConfigError);
      await assert.rejects(bus.consume('bad.name', 'kd.>', async () => {}), BusConfigError);
      const c = await bus.consume('evaluator', `kd.job_${id}.checkpoint_saved`, async () => {});
      await assert.rejects(bus.consume('evaluator', `kd.job_${id}.>`, async () => {}), (e: Error) => e instanceof BusConfigError && /already exists/.test(e.message));
      await c.stop();
    });

    test('publish after close neither throws nor delivers; it counts as dropped', async () => {
      const id = uniqueId();
      const bus = await make(id);
      await bus.close();
      await bus.publish(`job_${id}`, 'checkpoint_saved', checkpoint('x', 1));
      assert.equal(bus.stats.dropped, 1);
    });
  });
}

describe('NATS only', { skip: skipUnless(natsUp, `shared NATS at ${SHARED_NATS_URL}`) }, () => {
  test('subscribers skip, with a warning, messages whose subject or payload does not decode', async (t) => {
    const id = uniqueId();
    const job = `job_${id}`;
    const logs: string[] = [];
    streams.push(`KD_TEST_${id}`);
    const bus = await connectNatsBus(SHARED_NATS_URL, { stream: `KD_TEST_${id}`, subjectPrefix: `kdtest_${id}`, log: (l) => logs.push(l) });
    t.after(() => bus.close());
    const got: BusEvent[] = [];
    bus.subscribe(`kd.${job}.>`, (e) => got.push(e));
    bus.subscribe(`kd.${job}.>`, () => {
      throw new Error('a broken handler');
    });
    const raw = await connect({ servers: SHARED_NATS_URL });
    t.after(() => raw.close());
    await bus.publish(job, 'checkpoint_saved', checkpoint(job, 0)); // the subscriptions are live once this is through
    raw.publish(`kdtest_${id}.kd.${job}.checkpoint_saved`, new Uint8Array([0xff, 0xff, 0xff]));
    raw.publish(`kdtest_${id}.kd.${job}.no_such_event`, CheckpointSaved.encode(checkpoint(job, 1)).finish());
    raw.publish(`kdtest_${id}.kd.${job}.checkpoint_saved.extra`, CheckpointSaved.encode(checkpoint(job, 2)).finish());
    raw.publish(`kdtest_${id}.kd.${job}.checkpoint_saved`, CheckpointSaved.encode(checkpoint(job, 3)).finish());
    await raw.flush();
    await waitFor('the valid events', () => got.length === 2);
    assert.deepEqual(steps(got), [0, 3]);
    const skipped = new Set(logs.flatMap((l) => /^skipping message on (\S+):/.exec(l)?.[1] ?? []));
    assert.equal(skipped.size, 3, logs.join('\n'));
    assert.ok(logs.some((l) => /a broken handler/.test(l)));
  });

  test('an event whose consumer process died unacked goes to the next process with that durable name', async (t) => {
    const id = uniqueId();
    const job = `job_${id}`;
    const stream = `KD_TEST_${id}`;
    streams.push(stream);
    const o = { stream, subjectPrefix: `kdtest_${id}`, ackWaitMs: 1000, log: () => {} };
    const bus = await connectNatsBus(SHARED_NATS_URL, o);
    t.after(() => bus.close());
    await bus.publish(job, 'checkpoint_saved', checkpoint(job, 7));
    // the child takes step 7 and is killed before its handler returns
    const script = `
      import { connectNatsBus } from ${JSON.stringify(new URL('./index.ts', import.meta.url).href)};
      const bus = await connectNatsBus(${JSON.stringify(SHARED_NATS_URL)}, ${JSON.stringify(o)});
      await bus.consume('evaluator', 'kd.${job}.>', async (e) => { console.log('got ' + e.payload.step); await new Promise(() => {}); });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    try {
      await waitFor('the child to take step 7', () => out.includes('got 7'), 15_000);
    } finally {
      child.kill('SIGKILL');
    }
    const seen: BusEvent[] = [];
    const t0 = Date.now();
    const c = await bus.consume('evaluator', `kd.${job}.>`, async (e) => void seen.push(e));
    await waitFor('the redelivery', () => seen.length === 1, 8000);
    assert.equal((seen[0].payload as { step: number }).step, 7);
    assert.ok(Date.now() - t0 < 5000, 'redelivered after the ack wait (1 s), not the 30 s default');
    await c.stop();
  });
});

test('connectBus without a URL (and no NATS_URL) is the in-process bus', async () => {
  const saved = process.env.NATS_URL;
  process.env.NATS_URL = '';
  try {
    const id = uniqueId();
    const a = await connectBus({ stream: `T_${id}` });
    const b = await connectBus({ stream: `T_${id}` });
    const got: BusEvent[] = [];
    b.subscribe('kd.>', (e) => got.push(e));
    await a.publish('j', 'replica_up', { replicaId: 'r1', address: 'h:1', device: 'cpu', specHash: 'sha256:00', timeUnixSeconds: 1 });
    await waitFor('the event on the other bus of the stream', () => got.length === 1);
    assert.equal(got[0].event, 'replica_up');
    await Promise.all([a.close(), b.close()]);
  } finally {
    if (saved === undefined) delete process.env.NATS_URL;
    else process.env.NATS_URL = saved;
  }
});

test('subjectMatches follows NATS wildcards', () => {
  assert.ok(subjectMatches('kd.>', 'kd.j.checkpoint_saved'));
  assert.ok(subjectMatches('kd.*.checkpoint_saved', 'kd.j.checkpoint_saved'));
  assert.ok(!subjectMatches('kd.*.checkpoint_saved', 'kd.j.training_progress'));
  assert.ok(!subjectMatches('kd.>', 'kd'));
  assert.ok(!subjectMatches('kd.*', 'kd.a.b'));
  assert.ok(subjectMatches('kd.a.b', 'kd.a.b'));
});
