import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const kd = fileURLToPath(new URL('../../bin/kd.js', import.meta.url));

test('kd bench data --quick --json prints one JSON object with a row per worker count', () => {
  const out = spawnSync(process.execPath, [kd, 'bench', 'data', '--quick', '--json', '--workers', '0,2'], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const r = JSON.parse(out.stdout);
  assert.equal(r.dataset, 'shapes');
  assert.deepEqual([r.batch, r.input_size, r.consume_ms], [4, 128, 20]);
  assert.deepEqual(r.rows.map((row: { workers: number }) => row.workers), [0, 2]);
  for (const row of r.rows) {
    for (const key of ['images_per_s', 'ms_per_batch', 'wait_ms_mean', 'wait_ms_p95', 'consumer_images_per_s']) {
      assert.ok(typeof row[key] === 'number' && row[key] >= 0, `${key}: ${row[key]}`);
    }
    assert.ok(row.images_per_s > 0);
  }
});

test('bad --workers exits non-zero naming the option', () => {
  const out = spawnSync(process.execPath, [kd, 'bench', 'data', '--workers', 'two'], { encoding: 'utf8' });
  assert.notEqual(out.status, 0);
  assert.match(out.stderr, /--workers.*expected worker counts such as "0,1,2", got "two"/);
});
