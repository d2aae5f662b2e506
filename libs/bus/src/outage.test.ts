// Losing NATS mid-run: a private nats-server (JetStream, its own port and store) is killed
// and restarted on the same port and store while buses publish and a durable consumer waits.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CheckpointSaved, type EventPayload } from '@kd/proto';
import { connectNatsBus, type EventBus } from './index.ts';
import { freePort, stopProcess, natsServerBinary, skipUnless, startNatsServer, waitFor } from './test_support.ts';

const binary = natsServerBinary();

function checkpoint(job: string, step: number): EventPayload<'checkpoint_saved'> {
  return CheckpointSaved.fromPartial({ jobId: job, step, path: `runs/${job}/model_${step}` });
}

/** publish() must come back quickly (stored or buffered) and never throw, broker or not. */
async function publishQuickly(bus: EventBus, job: string, step: number): Promise<void> {
  const t0 = Date.now();
  await bus.publish(job, 'checkpoint_saved', checkpoint(job, step));
  assert.ok(Date.now() - t0 < 2000, `publish of step ${step} took ${Date.now() - t0} ms`);
}

test('events published while NATS is down are buffered (bounded) and flushed in order when it is back', { skip: skipUnless(binary !== undefined, 'nats-server binary') }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kd-bus-nats-'));
  let server: ChildProcess | undefined;
  const buses: EventBus[] = [];
  after(async () => {
    await Promise.all(buses.map((b) => b.close()));
    if (server) await stopProcess(server);
    rmSync(dir, { recursive: true, force: true });
  });
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  server = await startNatsServer(binary!, port, dir);
  const logs: Record<string, string[]> = { main: [], small: [], late: [], consumer: [] };
  const open = async (name: keyof typeof logs, bufferLimit?: number) => {
    const bus = await connectNatsBus(url, { log: (l) => logs[name].push(l), bufferLimit, closeTimeoutMs: 1000 });
    buses.push(bus);
    return bus;
  };

  // the default stream (KD_EVENTS on kd.>): this server is ours alone
  const main = await open('main');
  const small = await open('small', 3);
  const evaluator = await open('consumer');
  const got: number[] = [];
  await evaluator.consume('evaluator', 'kd.jobA.checkpoint_saved', async (e) => void got.push((e.payload as { step: number }).step));
  for (let step = 0; step < 5; step++) await publishQuickly(main, 'jobA', step);
  await waitFor('steps 0..4 before the outage', () => got.length === 5);

  // SIGTERM: the server goes away with its store consistent. (Killed with SIGKILL, it may
  // lose the last acks and redeliver those events: delivery is at least once.)
  await stopProcess(server, 'SIGTERM');
  server = undefined;
  for (let step = 5; step < 15; step++) await publishQuickly(main, 'jobA', step);
  for (let step = 0; step < 10; step++) await publishQuickly(small, 'jobB', step);
  // a bus started while NATS is down at all: no failure, one warning, buffering
  const late = await open('late');
  await publishQuickly(late, 'jobC', 42);
  const live: number[] = [];
  late.subscribe('kd.jobL.>', (e) => live.push((e.payload as { step: number }).step)); // before it ever connected
  assert.equal(main.stats.buffered, 10);
  assert.deepEqual(small.stats, { dropped: 7, buffered: 3 });
  assert.deepEqual(late.stats, { dropped: 0, buffered: 1 });
  assert.equal(logs.small.filter((l) => /dropping the oldest/.test(l)).length, 1, logs.small.join('\n'));
  assert.equal(logs.late.filter((l) => /cannot reach NATS/.test(l)).length, 1, logs.late.join('\n'));
  assert.equal(logs.main.filter((l) => /lost connection/.test(l)).length, 1, logs.main.join('\n'));

  server = await startNatsServer(binary!, port, dir); // same port, same store
  await waitFor('every jobA event at the durable consumer', () => got.length >= 15, 15_000);
  assert.deepEqual(got, Array.from({ length: 15 }, (_, i) => i), 'in order, each once');
  await waitFor('the buffers to drain', () => main.stats.buffered + small.stats.buffered + late.stats.buffered === 0);
  assert.equal(small.stats.dropped, 7);

  // the subscription made while disconnected is live now
  await waitFor('a live event at the late bus', () => {
    void main.publish('jobL', 'checkpoint_saved', checkpoint('jobL', 1));
    return live.length > 0;
  });

  // what the small buffer kept (the newest 3) and the late bus's event are stored too
  const rest: string[] = [];
  await evaluator.consume('check', 'kd.*.checkpoint_saved', async (e) => {
    if (e.job === 'jobB' || e.job === 'jobC') rest.push(`${e.job}:${(e.payload as { step: number }).step}`);
  });
  await waitFor('jobB and jobC events', () => rest.length >= 4);
  // each bus flushes in its own order; two buses reconnect and flush independently of each other
  assert.deepEqual(rest.filter((r) => r.startsWith('jobB:')), ['jobB:7', 'jobB:8', 'jobB:9']);
  assert.deepEqual(rest.filter((r) => r.startsWith('jobC:')), ['jobC:42']);
  assert.equal(rest.length, 4, rest.join(', '));
});
