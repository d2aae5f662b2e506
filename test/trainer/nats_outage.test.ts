// Losing NATS mid-run never stops training: a private nats-server is stopped and restarted
// (same port and store) while the trainer service trains; the checkpoint events of the outage
// arrive afterwards, in order, none lost.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectBus, type BusEvent } from '@kd/bus';
import { freePort, natsServerBinary, startNatsServer, stopProcess } from '@kd/bus/testing';
import { configs, runKd, tempDir, tinyOverrides } from '../distill/fixtures.ts';

const entry = fileURLToPath(new URL('../../services/trainer/src/main.ts', import.meta.url));
const binary = natsServerBinary();
const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test('the trainer keeps training through a NATS outage and its checkpoint events arrive after it, in order', async () => {
  assert.ok(binary, 'nats-server is not installed (apt-get install -y nats-server)');
  const store = mkdtempSync(join(tmpdir(), 'kd-nats-outage-'));
  cleanups.push(() => rmSync(store, { recursive: true, force: true }));
  const port = await freePort();
  const url = `nats://127.0.0.1:${port}`;
  let nats: ChildProcess = await startNatsServer(binary, port, store);
  cleanups.push(() => stopProcess(nats));

  const tmp = tempDir('kd-trainer-outage-');
  const data = join(tmp, 'shapes');
  const made = await runKd(['make-dataset', 'shapes', '--out', data, '--train', '4', '--test', '1', '--unlabeled', '0', '--size', '96']);
  assert.equal(made.status, 0, made.stderr);
  const job = `outage${process.pid}`;
  const child = spawn(process.execPath, ['--import', 'tsx', entry, '--job-id', job, '--metrics-port', 'none', '--nats', url,
    '-c', join(configs, 'yolov3_mobilenet_v1_shapes.yml'), ...tinyOverrides(data, join(tmp, 'out'), 100000), '-o', 'snapshot_iter=5'],
  { env: { ...process.env, KD_BACKEND: 'wasm', KD_LOG_LEVEL: 'info', KD_LOG_FORMAT: 'json' } });
  cleanups.push(() => void child.kill('SIGKILL'));
  let stderr = '';
  const lastStep = () => Number([...stderr.matchAll(/"msg":"step (\d+) lr/g)].at(-1)?.[1] ?? 0);
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const until = async (what: string, cond: () => boolean) => {
    for (const end = Date.now() + 60_000; !cond(); await new Promise((r) => setTimeout(r, 50))) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${stderr.slice(-2000)}`);
    }
  };

  await until('step 12', () => lastStep() >= 12);
  await stopProcess(nats, 'SIGTERM');
  const downAt = lastStep();
  await until('20 steps without NATS', () => lastStep() >= downAt + 20);
  nats = await startNatsServer(binary, port, store);
  const backAt = lastStep();
  await until('20 steps after NATS is back', () => lastStep() >= backAt + 20);
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr.slice(-2000));

  const summary = JSON.parse(readFileSync(join(tmp, 'out', 'train_summary.json'), 'utf8'));
  const bus = await connectBus({ url });
  cleanups.push(() => bus.close());
  const saved: BusEvent[] = [];
  const consumer = await bus.consume(`check${process.pid}`, `kd.${job}.checkpoint_saved`, async (e) => void saved.push(e));
  const expected = [...Array.from({ length: Math.floor(summary.steps / 5) }, (_, i) => String(5 * (i + 1))), 'model_final'];
  await until('every checkpoint event', () => saved.length >= expected.length);
  await consumer.stop();
  assert.deepEqual(saved.map((e) => (e.payload as { path: string }).path.split('/').pop()), expected);
  assert.ok(downAt + 20 <= summary.steps, 'training went on while NATS was down');
});
