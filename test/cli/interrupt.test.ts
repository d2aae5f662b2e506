// kd train stopped by Ctrl-C or SIGTERM: the step finishes, model_final is written, the
// summary says interrupted, and the exit status says which signal (130, 143), as CLI tools do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { configs, kdBin, runKd, tempDir, tinyOverrides } from '../distill/fixtures.ts';

test('an interrupted kd train saves model_final, records interrupted: true and exits 130 (SIGINT) or 143 (SIGTERM)', async () => {
  const tmp = tempDir('kd-interrupt-');
  const data = join(tmp, 'shapes');
  const made = await runKd(['make-dataset', 'shapes', '--out', data, '--train', '4', '--test', '1', '--unlabeled', '0', '--size', '96']);
  assert.equal(made.status, 0, made.stderr);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    const out = join(tmp, signal);
    const child = spawn(process.execPath, [kdBin, 'train', '-c', join(configs, 'yolov3_mobilenet_v1_shapes.yml'), ...tinyOverrides(data, out, 100000)],
      { env: { ...process.env, KD_BACKEND: 'wasm' } });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (/step 5 lr/.test(stderr) && child.signalCode === null && !child.killed) child.kill(signal);
    });
    const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(status, code, stderr.slice(-1500));
    assert.match(stderr, new RegExp(`interrupted \\(${signal}\\): finishing the current step and saving model_final`));
    assert.ok(existsSync(join(out, 'model_final', 'weights.bin')));
    const summary = JSON.parse(readFileSync(join(out, 'train_summary.json'), 'utf8'));
    assert.equal(summary.interrupted, true);
    assert.ok(summary.steps >= 5 && summary.steps < 100000);
    assert.equal(summary.last_step, summary.steps);
  }
});

// kd experiment stopped by SIGTERM to the parent alone: its child runs stop with it (no orphan
// keeps a core busy), the record stays for --resume, exit 143.
test('a stopped kd experiment stops its child runs, keeps its record and says how to resume', async () => {
  const out = join(tempDir('kd-interrupt-experiment-'), 'results');
  // the shipped teacher: --quick would train one for as many steps as the students
  const args = ['experiment', '--quick', '--seeds', '1', '--methods', 'baseline,l2', '--jobs', '2', '--steps', '100000', '--teacher', 'models/yolov3_r34_shapes', '--out', out];
  const child = spawn(process.execPath, [kdBin, ...args], { cwd: join(configs, '..'), env: { ...process.env, KD_BACKEND: 'wasm' } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (/l2, seed 0: started/.test(stderr) && child.signalCode === null && !child.killed) setTimeout(() => child.kill('SIGTERM'), 2000);
  });
  const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(status, 143, stderr.slice(-1500));
  assert.match(stderr, /SIGTERM: stopped; the runs that finished are in .*experiment\.json, --resume/);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'experiment.json'), 'utf8')).runs, []);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((a) => a.includes(`--work ${join(out, 'runs')}`));
  assert.deepEqual(left, [], 'child runs still running');
});
