import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runKd } from './test_fixtures.ts';

// The service benchmarks end to end on tiny models: the JSON keys the README's table reads, and sane values.
test('kd bench teacher --quick --json: in-process vs gRPC, dynamic batching, bytes per image', async () => {
  const r = await runKd('bench', 'teacher', '--quick', '--json');
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  for (const key of ['inprocess_img_s', 'grpc_img_s', 'grpc_vs_inprocess', 'batch8_img_s', 'batch2x4_img_s', 'dynamic_batching_ratio']) {
    assert.ok(result[key] > 0, `${key} = ${result[key]}`);
  }
  // fp16 halves the tensor bytes; the message framing is the same small amount in both
  assert.ok(Math.abs(result.bytes_per_image.fp32 / result.bytes_per_image.fp16 - 2) < 0.05, JSON.stringify(result.bytes_per_image));
  assert.ok(result.bytes_per_image.sparse > 0);
});

test('kd bench distill --quick --json: sequential vs remote teacher vs replicas, and the sparse run', async () => {
  const r = await runKd('bench', 'distill', '--quick', '--json');
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  for (const key of ['sequential_img_s', 'remote_img_s', 'replicas2_img_s', 'speedup']) assert.ok(result[key] > 0, `${key} = ${result[key]}`);
  assert.ok(Number.isFinite(result.fine_grained_final_loss.fp32) && Number.isFinite(result.fine_grained_final_loss.sparse));
});
