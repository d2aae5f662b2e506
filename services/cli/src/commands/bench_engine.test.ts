import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runKd } from './test_fixtures.ts';
import { defaultPythons, findTorchPython } from './bench_engine_pytorch.ts';

test('kd bench engine --vs-pytorch without torch says how to install it and exits 2 before timing anything', async () => {
  const out = await runKd('bench', 'engine', '--quick', '--vs-pytorch', '--python', '/nonexistent/python3');
  assert.equal(out.status, 2, out.stderr);
  assert.match(out.stderr, /apt-get install -y python3-torch/);
  assert.doesNotMatch(out.stderr, /timing/);
});

const torchPython = findTorchPython(defaultPythons);

// The shape of the JSON the README's table comes from, on a tiny batch with one repeat: not
// a timing test (the figures only have to exist), but PyTorch's model must be kd's.
test('kd bench engine --vs-pytorch --json: both sides, two replicas, the same model', { skip: torchPython == null && 'no python3 with torch here' }, async () => {
  const out = await runKd('bench', 'engine', '--quick', '--no-cpu', '--vs-pytorch', '--rounds', '1', '--repeats', '1', '--json');
  assert.equal(out.status, 0, out.stderr);
  const r = JSON.parse(out.stdout);
  assert.equal(r.pytorch.params, r.params, 'PyTorch\'s model has another parameter count than kd\'s');
  assert.deepEqual(r.pytorch.rows.map((row: { threads: number }) => row.threads), [1, 2]);
  assert.equal(r.pytorch_threads, 2);
  assert.equal(r.pytorch_train_step_ms, r.pytorch.rows[1].train_step_ms);
  assert.ok(r.replicas2_train_step_ms > 0 && r.train_step_ms > 0 && r.forward_ms > 0);
  assert.ok(Math.abs(r.replicas2_over_pytorch - r.replicas2_train_step_ms / r.pytorch_train_step_ms) < 1e-12);
  assert.equal(r.rounds.length, 1);
});

// Both sides' steps by the same parts: PyTorch's profile must find every convolution kind
// (a misread weight shape would leave a part at 0) and kd's parts must add up to its step.
test('kd bench engine --profile --vs-pytorch --json: both sides by part, the same arithmetic', { skip: torchPython == null && 'no python3 with torch here' }, async () => {
  const out = await runKd('bench', 'engine', '--quick', '--profile', '--vs-pytorch', '--repeats', '1', '--json');
  assert.equal(out.status, 0, out.stderr);
  const r = JSON.parse(out.stdout);
  const parts = ['dense_conv_forward', 'depthwise_conv_forward', 'dense_conv_gradients', 'depthwise_conv_gradients', 'other', 'optimizer', 'step'];
  for (const side of [r.kd, r.pytorch]) {
    assert.deepEqual(Object.keys(side).sort(), [...parts].sort());
    // "other" is the timed pass minus the profiled convolutions: at this tiny size, noise can
    // make it a little negative; every measured part must be there
    for (const part of parts) assert.ok(part === 'other' ? Number.isFinite(side[part]) : side[part] > 0, `${part}: ${side[part]}`);
    const sum = parts.filter((p) => p !== 'step').reduce((s, p) => s + side[p], 0);
    assert.ok(Math.abs(sum - side.step) / side.step < 1e-9, `parts ${sum} vs step ${side.step}`); // one step: no medians to differ
  }
  const table = await runKd('bench', 'engine', '--quick', '--profile', '--vs-pytorch', '--repeats', '1');
  assert.match(table.stdout, /dense conv, gradients(\s+[\d.]+){4}\s+[\d.]+x/);
});
