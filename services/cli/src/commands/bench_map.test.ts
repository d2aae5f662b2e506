import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { runKd } from './test_fixtures.ts';

const numpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
const skip = numpy.status === 0 ? false : 'python3 with numpy is not available';

// Agreement only: speed depends on the machine, and tests assert behaviour, not speed.
test('kd bench map --quick --json: evaluateVoc and the numpy voc_eval agree to 1e-9', { skip }, async () => {
  const out = await runKd('bench', 'map', '--quick', '--json');
  assert.equal(out.status, 0, out.stderr);
  const r = JSON.parse(out.stdout);
  for (const key of ['ours_ms', 'numpy_ms', 'speedup', 'map_ours', 'map_numpy', 'max_abs_diff']) assert.ok(key in r, `missing ${key}`);
  assert.equal(r.numpy_skipped, null);
  assert.deepEqual([r.images, r.dets_per_image, r.detections, r.classes], [300, 20, 6000, 20]);
  assert.ok(r.map_ours > 0.1 && r.map_ours < 1, `mAP ${r.map_ours}: the generated set should be neither trivial nor hopeless`);
  assert.ok(r.max_abs_diff <= 1e-9, `max_abs_diff ${r.max_abs_diff}`);
  assert.ok(Math.abs(r.map_ours - r.map_numpy) <= 1e-9);
});
