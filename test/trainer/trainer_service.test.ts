// The trainer service as a process (services/trainer), with real NATS (the machine's, at
// 127.0.0.1:4222) and its real /metrics: events for progress and every checkpoint, SIGTERM
// that ends with a published checkpoint, and a resumed run that reproduces the uninterrupted one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectBus, type BusEvent, type EventBus } from '@kd/bus';
import { configs, runKd, stepLosses, tempDir, tinyOverrides } from '../distill/fixtures.ts';

const NATS = process.env.KD_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const entry = fileURLToPath(new URL('../../services/trainer/src/main.ts', import.meta.url));
const student = join(configs, 'yolov3_mobilenet_v1_shapes.yml');
const tmp = tempDir('kd-trainer-service-');
const data = join(tmp, 'shapes');
const run = `t${process.pid}`;
let bus: EventBus;

interface TrainerRun { code: number | null; stderr: string; stdout: string }

/** Runs the trainer service; `during` sees stdout/stderr as they come and may signal the child. */
function trainer(args: string[], during?: (out: { stdout: string; stderr: string; kill: (s: NodeJS.Signals) => void }) => void): Promise<TrainerRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry, '--metrics-port', '0', '--nats', NATS, ...args], {
      env: { ...process.env, KD_BACKEND: 'wasm', KD_LOG_FORMAT: 'json', KD_LOG_LEVEL: 'info' },
    });
    let stdout = '';
    let stderr = '';
    const seen = () => during?.({ stdout, stderr, kill: (s) => child.kill(s) });
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; seen(); });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; seen(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

before(async () => {
  const made = await runKd(['make-dataset', 'shapes', '--out', data, '--train', '6', '--test', '2', '--unlabeled', '0', '--size', '96', '--seed', '4']);
  assert.equal(made.status, 0, made.stderr);
  bus = await connectBus({ url: NATS });
});
after(async () => {
  await bus?.close();
});

test('progress and every checkpoint are published; SIGTERM stops after a step with a published model_final; /metrics counts the steps', async () => {
  const job = `${run}-events`;
  const events: BusEvent[] = [];
  const sub = bus.subscribe(`kd.${job}.>`, (e) => events.push(e));
  let metricsText = '';
  let signalled = false;
  const r = await trainer(['--job-id', job, '-c', student, ...tinyOverrides(data, join(tmp, 'events'), 400), '-o', 'snapshot_iter=3'], ({ stdout, stderr, kill }) => {
    const port = /metrics on [\d.]+:(\d+)/.exec(stdout)?.[1];
    if (!signalled && port && /step 7 lr/.test(stderr)) {
      signalled = true;
      void fetch(`http://127.0.0.1:${port}/metrics`).then((res) => res.text()).then((t) => { metricsText = t; kill('SIGTERM'); });
    }
  });
  assert.equal(r.code, 0, r.stderr);
  await new Promise((resolve) => setTimeout(resolve, 300)); // the last events' delivery
  sub.unsubscribe();
  const summary = JSON.parse(readFileSync(join(tmp, 'events', 'train_summary.json'), 'utf8'));
  assert.equal(summary.interrupted, true);
  assert.ok(summary.steps >= 7 && summary.steps < 400, `stopped at ${summary.steps}`);
  const saved = events.filter((e) => e.event === 'checkpoint_saved');
  const snapshots = Array.from({ length: summary.steps }, (_, i) => String(i + 1)).filter((step) => Number(step) % 3 === 0);
  assert.deepEqual(saved.map((e) => (e.payload as { path: string }).path.split('/').pop()), [...snapshots, 'model_final']);
  const final = saved.at(-1)!.payload as { path: string; step: number; contentHash: string; sizeBytes: number; jobId: string };
  assert.equal(final.jobId, job);
  assert.equal(final.step, summary.steps);
  assert.equal(final.contentHash, `sha256:${createHash('sha256').update(readFileSync(join(final.path, 'weights.bin'))).digest('hex')}`);
  assert.ok(final.sizeBytes > 0);
  const progress = events.filter((e) => e.event === 'training_progress').map((e) => e.payload as { step: number; totalSteps: number; loss: Record<string, number> });
  assert.ok(progress.length >= 7, `${progress.length} progress events`);
  assert.equal(progress[0].totalSteps, 400);
  assert.ok(Number.isFinite(progress[0].loss.loss));
  assert.match(metricsText, new RegExp(`kd_trainer_steps_total\\{service="trainer",replica="[^"]+",job_id="${job}"\\} ([7-9]|\\d\\d)`));
  assert.match(metricsText, /kd_trainer_loss_value\{[^}]*kind="loss_obj"[^}]*\} [\d.]+/);
  assert.match(metricsText, /kd_trainer_step_duration_seconds_count\{[^}]*\} \d+/);
});

test('a run stopped by SIGTERM and resumed with -r reproduces the uninterrupted run: same losses (1e-5) and final weights', async () => {
  // long enough that the signal lands mid-run (a tiny step takes milliseconds)
  const steps = 60;
  const whole = await trainer(['--job-id', `${run}-whole`, '-c', student, ...tinyOverrides(data, join(tmp, 'whole'), steps)]);
  assert.equal(whole.code, 0, whole.stderr);
  let signalled = false;
  const first = await trainer(['--job-id', `${run}-part`, '-c', student, ...tinyOverrides(data, join(tmp, 'part'), steps)], ({ stderr, kill }) => {
    if (!signalled && /step 5 lr/.test(stderr)) {
      signalled = true;
      kill('SIGTERM');
    }
  });
  assert.equal(first.code, 0, first.stderr);
  const stoppedAt = JSON.parse(readFileSync(join(tmp, 'part', 'train_summary.json'), 'utf8')).steps;
  assert.ok(stoppedAt >= 5 && stoppedAt < steps, `stopped at ${stoppedAt}`);
  const rest = await trainer(['--job-id', `${run}-part`, '-c', student, ...tinyOverrides(data, join(tmp, 'part'), steps), '-r', join(tmp, 'part', 'model_final')]);
  assert.equal(rest.code, 0, rest.stderr);
  const expected = stepLosses(whole.stderr);
  const got = [...stepLosses(first.stderr), ...stepLosses(rest.stderr)];
  assert.equal(expected.length, steps);
  assert.equal(got.length, steps);
  for (let i = 0; i < steps; i++) {
    for (const [key, value] of Object.entries(expected[i])) {
      assert.ok(Math.abs(got[i][key] - value) <= 1e-5 * Math.max(1, Math.abs(value)), `step ${i + 1} ${key}: ${got[i][key]} vs ${value}`);
    }
  }
  const weights = (dir: string) => new Float32Array(readFileSync(join(tmp, dir, 'model_final', 'weights.bin')).buffer.slice(0));
  const [a, b] = [weights('whole'), weights('part')];
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  assert.ok(worst <= 1e-5, `final weights differ by up to ${worst}`);
});
