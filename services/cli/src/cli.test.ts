import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const kd = fileURLToPath(new URL('../bin/kd.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [kd, ...args], { encoding: 'utf8', env: { ...process.env, KD_BACKEND: 'wasm' } });

test('kd --help lists the commands and the KD_BACKEND variable', () => {
  const out = run('--help');
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stdout, /bench/);
  assert.match(out.stdout, /KD_BACKEND/);
});

test('kd bench engine --quick --json prints one JSON object with the benchmark keys', () => {
  const out = run('bench', 'engine', '--quick', '--json');
  assert.equal(out.status, 0, out.stderr);
  const result = JSON.parse(out.stdout);
  for (const key of ['backend', 'forward_ms', 'train_step_ms', 'cpu_train_step_ms', 'grad_max_rel_err']) {
    assert.ok(key in result, `missing ${key}`);
  }
  assert.equal(result.backend, 'wasm');
  assert.ok(result.forward_ms > 0 && result.train_step_ms > 0 && result.cpu_train_step_ms > 0);
  // The wasm training kernels must give the cpu backend's gradients.
  assert.ok(result.grad_max_rel_err <= 1e-4, `grad_max_rel_err ${result.grad_max_rel_err}`);
});

test('bad arguments exit non-zero with a message naming the option', () => {
  const out = run('bench', 'engine', '--repeats', '0');
  assert.notEqual(out.status, 0);
  assert.match(out.stderr, /--repeats.*positive integer, got "0"/);
});
