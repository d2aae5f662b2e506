import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runKd } from './test_fixtures.ts';

const config = fileURLToPath(new URL('../../../../configs/yolov3_mobilenet_v1_shapes.yml', import.meta.url));
const tiny = ['-c', config, '-o', 'backbone.width=0.125', '-o', 'yolo_head.width=0.0625', '-o', 'train_reader.batch_size=2', '--size', '64', '--steps', '2', '--warmup', '1'];

test('kd bench train --json times 1 and 2 replicas; the speed-up is relative to the first row', async () => {
  const out = await runKd('bench', 'train', ...tiny, '--json');
  assert.equal(out.status, 0, out.stderr);
  const r = JSON.parse(out.stdout);
  assert.deepEqual([r.backbone, r.batch, r.size, r.backend], ['MobileNetV1', 2, 64, 'wasm']);
  assert.deepEqual(r.rows.map((row: { replicas: number }) => row.replicas), [1, 2]);
  assert.equal(r.rows[0].speedup, 1);
  for (const row of r.rows) {
    assert.ok(row.ms_per_step > 0);
    assert.ok(Math.abs(row.images_per_s - 2000 / row.ms_per_step) < 1e-9);
    assert.ok(Math.abs(row.speedup - r.rows[0].ms_per_step / row.ms_per_step) < 1e-9);
  }
  // two replicas: where the step's time went on the main thread, four parts within the step
  assert.equal(r.rows[0].phases, undefined);
  const phases = r.rows[1].phases;
  assert.deepEqual(Object.keys(phases), ['share_ms', 'own_gradients_ms', 'wait_ms', 'update_ms']);
  assert.ok(Object.values(phases as Record<string, number>).every((ms) => ms >= 0));
  assert.ok(phases.own_gradients_ms > 0 && phases.share_ms + phases.own_gradients_ms + phases.wait_ms + phases.update_ms <= 1.5 * r.rows[1].ms_per_step);
});

test('kd bench train: more replicas than images per batch exits 2 before timing anything', async () => {
  const out = await runKd('bench', 'train', ...tiny, '--replicas', '1,3');
  assert.equal(out.status, 2);
  assert.match(out.stderr, /replicas: 3 is more than train_reader\.batch_size: 2/);
  assert.doesNotMatch(out.stderr, /1 replica,/);
});

test('kd bench train --profile: one step per tfjs kernel, largest first, with the conv gradients among them', async () => {
  const out = await runKd('bench', 'train', ...tiny, '--profile', '--json');
  assert.equal(out.status, 0, out.stderr);
  const rows = JSON.parse(out.stdout) as Array<{ kernel: string; ms: number; calls: number }>;
  const names = rows.map((r) => r.kernel);
  for (const kernel of ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter']) {
    assert.ok(names.includes(kernel), `${kernel} in ${names.join(', ')}`);
  }
  assert.ok(rows.every((r) => r.calls > 0 && r.ms >= 0));
  // every convolution of the forward pass has exactly one filter gradient in the backward pass
  const calls = (kernel: string) => rows.find((r) => r.kernel === kernel)?.calls ?? 0;
  assert.ok(calls('Conv2D') > 1);
  assert.equal(calls('Conv2D'), calls('Conv2DBackpropFilter'));
  assert.equal(calls('DepthwiseConv2dNative'), calls('DepthwiseConv2dNativeBackpropFilter'));
  assert.deepEqual(rows.map((r) => r.ms), rows.map((r) => r.ms).sort((a, b) => b - a));
  const table = await runKd('bench', 'train', ...tiny, '--profile');
  assert.match(table.stdout, /^Conv2D\s+[\d.]+ ms\s+\d+ calls$/m);
  assert.match(table.stdout, /total kernel time/);
});
